"""Settings from environment variables (CITYOPS_*); the only module that reads os.environ."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Deployment settings. Every field can be set as CITYOPS_<NAME> in the environment."""

    model_config = SettingsConfigDict(env_prefix="CITYOPS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'var' / 'cityops.db'}",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db",
    )
    # FULL fsyncs the WAL on every commit: an acknowledged event survives a power cut, not
    # only a killed process. NORMAL is faster and still survives a crash of the process.
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    db_pool_size: int = 10
    secret_key: str = Field(
        default="change-me-in-production-this-is-only-for-local-use",
        description="Signs login tokens; set a long random value in production.",
    )
    token_ttl_minutes: int = 12 * 60
    timezone: str = "Asia/Shanghai"
    district_code: str = Field(
        default="500103", description="GB/T 2260 code of the district this centre runs"
    )
    storage_backend: Literal["local", "s3"] = "local"
    storage_dir: Path = ROOT / "var" / "attachments"
    s3_bucket: str = "cityops"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    max_batch_size: int = 10_000
    max_readings_batch: int = Field(
        default=100_000, description="Most readings one POST /api/v1/readings may carry"
    )
    max_upload_bytes: int = 20 * 1024 * 1024
    sla_sweep_seconds: int = 60
    silence_sweep_seconds: int = Field(
        default=60, description="How often devices that stopped reporting are looked for"
    )
    run_scheduler: bool = Field(
        default=False,
        description="Run the overdue sweep inside the API process (`cityops serve` turns it on)",
    )
    workday_windows: str = Field(
        default="09:00-12:00,13:30-17:30",
        description="Daily working windows, comma separated HH:MM-HH:MM in local time",
    )
    hub: Literal["auto", "local", "postgres", "nats"] = Field(
        default="auto",
        description="How case changes reach clients connected to other processes: "
        "auto is LISTEN/NOTIFY on PostgreSQL and in-process on SQLite",
    )
    nats_url: str = "nats://127.0.0.1:4222"
    nats_subject: str = "cityops.frames"
    map_tile_url: str = Field(
        default="",
        description="Base map tiles for the pages, an XYZ template such as "
        "https://tiles.example.gov.cn/{z}/{x}/{y}.png; empty: grids and cases on a plain "
        "background (our own layers are always drawn)",
    )
    log_level: str = "INFO"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
