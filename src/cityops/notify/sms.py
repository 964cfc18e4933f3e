"""Text messages to residents' phones (verification codes), through a pluggable sender.

A district plugs in its own SMS gateway: `http` posts each message as JSON to an adapter
the district runs in front of its provider (every provider's API differs, and the
credentials stay with that adapter). `file` appends messages to a file, for a demo or a
test that runs the server in another process; `memory` keeps them in a list, for tests in
the same process.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import httpx

from cityops.config import Settings


class SmsFailed(RuntimeError):
    """The gateway did not take the message."""


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Hand one message to the gateway; raises SmsFailed if it was not taken."""


@dataclass
class MemorySms:
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))


@dataclass
class FileSms:
    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, phone: str, text: str) -> None:
        line = json.dumps({"phone": phone, "text": text, "at": datetime.now(UTC).isoformat()},
                          ensure_ascii=False)  # fmt: skip
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")


@dataclass
class HttpSms:
    url: str
    token: str | None = None
    timeout: float = 5.0

    def send(self, phone: str, text: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = httpx.post(self.url, json={"phone": phone, "text": text},
                                  headers=headers, timeout=self.timeout)  # fmt: skip
        except httpx.HTTPError as exc:
            raise SmsFailed(f"the SMS gateway is unreachable: {type(exc).__name__}") from None
        if response.status_code >= 300:
            raise SmsFailed(f"the SMS gateway answered {response.status_code}")


def make_sms(settings: Settings) -> SmsSender:
    if settings.sms_backend == "http":
        if not settings.sms_url:
            raise ValueError("CITYOPS_SMS_URL is required with CITYOPS_SMS_BACKEND=http")
        return HttpSms(settings.sms_url, settings.sms_token)
    if settings.sms_backend == "memory":
        return MemorySms()
    return FileSms(settings.sms_file)
