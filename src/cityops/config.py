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
    classify_auto_confidence: float = Field(
        default=0.8,
        ge=0,
        le=1,
        description="A report whose likeliest class is at least this sure is routed without a "
        "person reading it first; below it the call-taker chooses among the top three",
    )
    open311_contact: str = Field(
        default="城市运行和治理中心 12345",
        description="Who Open311 clients contact about this endpoint (discovery's contact)",
    )
    open311_key_service: str = Field(
        default="", description="Where developers ask for an Open311 API key (a URL or e-mail)"
    )
    sms_backend: Literal["file", "http", "memory"] = Field(
        default="file",
        description="How verification codes reach residents' phones: http (the district's "
        "SMS gateway adapter at CITYOPS_SMS_URL), file (appended to CITYOPS_SMS_FILE: a demo "
        "without a gateway), memory (tests)",
    )
    sms_url: str | None = Field(
        default=None, description="The SMS gateway adapter: POST {phone, text} as JSON"
    )
    sms_token: str | None = Field(
        default=None, description="Bearer token sent to the SMS gateway adapter"
    )
    sms_file: Path = Field(
        default=ROOT / "var" / "sms-outbox.jsonl",
        description="Where the file sender appends messages (one JSON line each)",
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
    # Sensor storage (sensing/retention.py): 0 days keeps that kind of data forever.
    reading_retention_days: int = Field(
        default=30,
        ge=0,
        description="How long raw readings are kept (days); older readings are refused",
    )
    rollup_1m_retention_days: int = Field(
        default=90, ge=0, description="How long per-minute rollups are kept (days)"
    )
    rollup_1h_retention_days: int = Field(
        default=3650, ge=0, description="How long hourly rollups are kept (days)"
    )
    reading_partition_days_ahead: int = Field(
        default=3,
        ge=0,
        description="PostgreSQL: days' partitions of readings made ahead of today",
    )
    sensor_maintenance_seconds: int = Field(
        default=3600,
        ge=1,
        description="How often partitions are made and old sensor data removed",
    )
    # The video detection log (video/retention.py); cases keep their own evidence.
    detection_retention_days: int = Field(
        default=30,
        ge=0,
        description="How long detections and their snapshots are kept (days); 0: forever",
    )
    video_maintenance_seconds: int = Field(
        default=3600, ge=1, description="How often old detections are removed"
    )
    enforcement_supervision_seconds: int = Field(
        default=600, ge=60, description="How often every supervision rule is evaluated"
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
    mqtt_enabled: bool = Field(
        default=False,
        description="Run the MQTT consumer of readings inside the API process (one process "
        "only: with several, run `cityops mqtt` instead)",
    )
    mqtt_host: str = Field(default="127.0.0.1", description="The MQTT broker's host")
    mqtt_port: int = Field(default=1883, description="The MQTT broker's port (8883 with TLS)")
    mqtt_username: str | None = Field(default=None, description="The consumer's user on the broker")
    mqtt_password: str | None = Field(
        default=None, description="The consumer's password on the broker"
    )
    mqtt_tls: bool = Field(default=False, description="Connect to the broker over TLS")
    mqtt_ca_file: Path | None = Field(
        default=None,
        description="CA certificate(s) the broker's certificate is checked against with "
        "TLS; none: the system's",
    )
    mqtt_client_id: str = Field(
        default="cityops-readings",
        description="The consumer's client id: the broker keeps its session (subscription "
        "and queued messages) under it, so keep it fixed; each consumer its own",
    )
    mqtt_topic: str = Field(
        default="cityops/readings/{device}/{property}",
        description="Topic scheme: {device} and {property} are whole levels read from "
        "each topic; without {property}, a message carries several properties",
    )
    mqtt_shared: bool = Field(
        default=False,
        description="Subscribe as $share/cityops/<topic> (MQTT 5): several consumers, each "
        "with its own client id, split the messages",
    )
    mqtt_batch_ms: int = Field(
        default=5, ge=0, description="Longest wait for more messages before writing a batch (ms)"
    )
    mqtt_batch_max: int = Field(
        default=5000, ge=1, description="Most readings written in one transaction"
    )
    mqtt_session_expiry_s: int = Field(
        default=7 * 24 * 3600,
        ge=0,
        le=2**32 - 1,
        description="How long the broker keeps the consumer's session and queues messages "
        "for it while it is away (s)",
    )
    frigate_mapping_file: Path | None = Field(
        default=None,
        description="The Frigate consumer's mapping (JSON): source name, Frigate cameras → "
        "our camera codes with their detect resolution and zones, label renames",
    )
    frigate_topic_prefix: str = Field(
        default="frigate", description="Frigate's mqtt.topic_prefix (events on <prefix>/events)"
    )
    frigate_url: str | None = Field(
        default=None,
        description="Frigate's HTTP API for snapshots, e.g. http://nvr:5000; none: no snapshots",
    )
    frigate_token: str | None = Field(
        default=None, description="A bearer token for Frigate's authenticated port (≥ 0.14)"
    )
    frigate_client_id: str = Field(
        default="cityops-frigate", description="The Frigate consumer's MQTT client id"
    )
    # Enforcement documents (执法文书) as PDF: the faces are embedded (as subsets) in every
    # document, so it prints the same anywhere. See docs/configuration.md.
    pdf_font: Path | None = Field(
        default=None,
        description="The body face of enforcement documents: a TrueType .ttf, or a .ttc "
        "collection with #N naming its face (仿宋 preferred, else a Song face); none: the "
        "first known system font found",
    )
    pdf_title_font: Path | None = Field(
        default=None,
        description="The face of the agency name and the title (小标宋, else Hei or Song), "
        "in the same form as pdf_font; none: the first known system font found",
    )
    log_level: str = "INFO"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
