"""The consumer of a Frigate NVR's event messages: `<prefix>/events` on the MQTT broker,
parsed (`frigate.parse_event`), verified and stored (`video.service`), one batch a
transaction; malformed messages become dead letters with the reason.

Frigate publishes its events at QoS 0, so the broker keeps nothing for a consumer that is
away: what Frigate sends while `cityops frigate` is down is lost at the broker, whatever
this side does. What arrives is committed before the next batch is taken; a batch that
cannot be stored is tried again until it is (or the consumer stops).

Snapshots come from Frigate's HTTP API: a track's first message fetches one (the video
wall's latest picture), and a detection that opens or joins a case fetches its own when
the case needs evidence. Fetching happens outside the writing transaction for the first,
and only for the few detections that reach a case for the second.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from cityops.auth.service import Principal
from cityops.cases.workflow import Actor
from cityops.ingest.frigate import (
    FrigateMapping,
    SnapshotFetcher,
    attach_snapshot,
    parse_event,
    topic_filter,
)
from cityops.sensing.service import record_dead_letter
from cityops.video.schemas import DetectionIn

if TYPE_CHECKING:
    from cityops.bootstrap import Context

log = logging.getLogger(__name__)

CHANNEL = "frigate"
BATCH_MAX = 500
BATCH_MS = 10
BACKOFF_FIRST_S = 0.2
BACKOFF_MAX_S = 10.0
STOP_TIMEOUT_S = 10.0


def load_mapping(path: Path) -> FrigateMapping:
    """The camera, zone and label mapping from its JSON file (see docs/configuration.md)."""
    return FrigateMapping.model_validate_json(path.read_bytes())


@dataclass
class FrigateStats:
    messages: int = 0
    detections: int = 0
    ignored: int = 0
    dead_letters: int = 0
    batches: int = 0
    failed_writes: int = 0


@dataclass(frozen=True, slots=True)
class _Raw:
    topic: str
    payload: bytes
    received_at: datetime


class FrigateConsumer:
    """Subscribes to Frigate's event topic and takes its detections in; `start()`, `stop()`."""

    def __init__(
        self,
        context: Context,
        mapping: FrigateMapping,
        *,
        prefix: str = "frigate",
        fetcher: SnapshotFetcher | None = None,
        client_id: str = "cityops-frigate",
    ) -> None:
        self.context = context
        self.mapping = mapping
        self.topic = topic_filter(prefix)
        self.fetcher = fetcher
        self.stats = FrigateStats()
        self.subscribed = threading.Event()
        # The consumer posts as the mapping's source, with no key and no person behind it.
        self.principal = Principal(
            actor=Actor.system(f"frigate:{mapping.source}"),
            api_key_id=0,
            sources=frozenset({mapping.source}),
            trusted=True,
        )
        self._queue: queue.Queue[_Raw | None] = queue.Queue()
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._run, name="cityops-frigate", daemon=True)
        s = context.settings
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv5)  # fmt: skip
        if s.mqtt_username:
            client.username_pw_set(s.mqtt_username, s.mqtt_password)
        if s.mqtt_tls:
            client.tls_set(ca_certs=str(s.mqtt_ca_file) if s.mqtt_ca_file else None)
        client.reconnect_delay_set(1, 30)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self._client = client

    def start(self) -> None:
        s = self.context.settings
        self._worker.start()
        self._client.connect_async(s.mqtt_host, s.mqtt_port, keepalive=30)
        self._client.loop_start()

    def stop(self) -> None:
        """Finish the batch in hand, then disconnect."""
        self._stopping.set()
        self._queue.put(None)
        if self._worker.is_alive():
            self._worker.join(STOP_TIMEOUT_S)
        self._client.disconnect()
        self._client.loop_stop()
        if self.fetcher is not None:
            self.fetcher.close()
        log.info("Frigate consumer stopped: %s", self.stats)

    # -- paho's network thread: never raise here -----------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.error("MQTT broker refused the Frigate consumer: %s", reason)
            return
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        reasons: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        if any(r.is_failure for r in reasons):
            log.error("MQTT broker refused the subscription to %s: %s", self.topic, reasons)
            return
        self.subscribed.set()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = repr(message._topic)[:200]
        self._queue.put(_Raw(topic, bytes(message.payload), self.context.clock.now()))

    # -- the worker thread ----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            batch = self._take()
            if batch:
                self._process(batch)

    def _take(self) -> list[_Raw]:
        first = self._queue.get()
        if first is None:
            return []
        batch = [first]
        deadline = time.monotonic() + BATCH_MS / 1000
        while len(batch) < BATCH_MAX:
            try:
                raw = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if raw is None:
                break
            batch.append(raw)
        return batch

    def _process(self, batch: list[_Raw]) -> None:
        failures = 0
        while True:
            try:
                self.take_in(batch)
                return
            except Exception as exc:  # the database is away, or a bug: never lose the batch
                failures += 1
                self.stats.failed_writes += 1
                delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (failures - 1))
                log.warning(
                    "could not store %d Frigate message(s) (%s); again in %.1f s",
                    len(batch),
                    type(exc).__name__,
                    delay,
                    exc_info=failures == 1,
                )
                if self._stopping.wait(delay):
                    return

    def take_in(self, batch: list[_Raw]) -> None:
        """Parse a batch, store its detections in one transaction and its malformed
        messages as dead letters in another (also called by the tests, without a broker)."""
        detections: list[tuple[_Raw, DetectionIn]] = []
        letters: list[tuple[_Raw, str]] = []
        for raw in batch:
            result = parse_event(raw.payload, self.mapping)
            if result.outcome == "rejected":
                letters.append((raw, result.reason or "rejected"))
            elif result.outcome == "ignored" or result.detection is None:
                self.stats.ignored += 1
            else:
                detections.append((raw, self._with_first_snapshot(result.detection)))
        if detections:
            letters += self._store(detections)
        self._record(letters)
        self.stats.messages += len(batch)
        self.stats.detections += len(detections)
        self.stats.batches += 1

    def _with_first_snapshot(self, detection: DetectionIn) -> DetectionIn:
        if self.fetcher is None or detection.phase != "new" or detection.track_id is None:
            return detection
        image = self.fetcher.fetch(detection.track_id)
        return attach_snapshot(detection, image) if image is not None else detection

    def _fetch(self, detection: DetectionIn) -> bytes | None:
        if self.fetcher is None or detection.track_id is None:
            return None
        return self.fetcher.fetch(detection.track_id)

    def _store(self, detections: list[tuple[_Raw, DetectionIn]]) -> list[tuple[_Raw, str]]:
        """The detections in one transaction; the messages refused (an unknown camera) as
        letters, with the problems."""
        items = [d.model_dump(mode="json", exclude_none=True) for _, d in detections]
        results = self.context.detections.write(self.principal, items, fetch_snapshot=self._fetch)
        return [
            (raw, "; ".join(f"{e['path']}: {e['message']}" for e in result.errors))
            for (raw, _), result in zip(detections, results, strict=True)
            if result.status == "rejected"
        ]

    def _record(self, letters: list[tuple[_Raw, str]]) -> None:
        if not letters:
            return
        uow = self.context.unit_of_work()
        try:
            for raw, reason in letters:
                record_dead_letter(uow.session, channel=CHANNEL, topic=raw.topic,
                                   payload=raw.payload, reason=reason,
                                   now=raw.received_at)  # fmt: skip
            uow.commit()
        finally:
            uow.close()
        self.stats.dead_letters += len(letters)
