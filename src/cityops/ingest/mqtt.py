"""The MQTT consumer of readings: devices publish to the broker, one process takes them in.

Delivery is at least once, end to end: messages are QoS 1 on a persistent session (a fixed
client id, clean start off, a session expiry), so the broker keeps what is published while
the consumer is down; each message is acknowledged only after the transaction holding its
readings (or its dead letter) has committed, so a crash or a database outage loses nothing.
A message delivered twice is harmless: a reading already stored is a duplicate, a no-op.

paho's network thread only queues messages; a worker thread takes up to `mqtt_batch_max`
readings (waiting at most `mqtt_batch_ms` for company), writes them in one transaction
through the process's readings writer, records the bad ones as dead letters, and then
acknowledges every message of the batch.
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy.exc import InterfaceError, OperationalError

from cityops.sensing.service import record_dead_letter

if TYPE_CHECKING:
    from cityops.bootstrap import Context
    from cityops.config import Settings

log = logging.getLogger(__name__)

CHANNEL = "mqtt"
# Consumers in this group split the messages between them (MQTT 5 shared subscription).
SHARE_GROUP = "cityops"
DEVICE, PROPERTY = "{device}", "{property}"
# A failed batch is tried again after 0.2 s, 0.4 s ... up to this long between tries.
BACKOFF_FIRST_S = 0.2
BACKOFF_MAX_S = 10.0
# A batch that fails this often for a reason other than an unreachable database is written
# message by message, so that one message that breaks the writer cannot stop all the others.
TRIES_BEFORE_SPLIT = 3
# How long stop() waits for the batch in hand, and for the broker to see the disconnect.
STOP_TIMEOUT_S = 10.0


class TopicScheme:
    """A topic scheme such as `cityops/readings/{device}/{property}`.

    Each placeholder is a whole level: it becomes `+` in the subscription and its value is
    read from the topic of each message. Without `{property}`, a message carries readings
    of several properties of its device.
    """

    def __init__(self, scheme: str) -> None:
        levels = scheme.split("/")
        if levels.count(DEVICE) != 1 or levels.count(PROPERTY) > 1:
            raise ValueError(f"topic scheme {scheme!r}: one {DEVICE} level, at most one {PROPERTY}")
        for level in levels:
            if level in (DEVICE, PROPERTY):
                continue
            if not level or any(c in level for c in "{}+#") or level.startswith("$"):
                raise ValueError(f"topic scheme {scheme!r}: level {level!r} is not a plain name")
        self.scheme = scheme
        self.levels = levels
        self.device_level = levels.index(DEVICE)
        self.property_level = levels.index(PROPERTY) if PROPERTY in levels else None

    @property
    def filter(self) -> str:
        """The subscription's topic filter."""
        return "/".join("+" if level in (DEVICE, PROPERTY) else level for level in self.levels)

    def match(self, topic: str) -> tuple[str, str | None] | None:
        """The device and property codes a topic names, or None if it is not of the scheme."""
        parts = topic.split("/")
        if len(parts) != len(self.levels):
            return None
        for level, part in zip(self.levels, parts, strict=True):
            if level not in (DEVICE, PROPERTY) and level != part:
                return None
        device = parts[self.device_level]
        prop = parts[self.property_level] if self.property_level is not None else None
        if not device or prop == "":
            return None
        return device, prop


@dataclass(slots=True)
class Letter:
    """A dead letter to record: what could not be taken, and why."""

    topic: str
    payload: bytes | str
    reason: str


@dataclass(slots=True)
class Candidate:
    """One reading for the writer, with what to tell if the writer rejects it."""

    topic: str
    item: dict[str, Any]
    label: str  # "", "[2]", "values.ch4": where in the message the reading was
    payload: bytes | str  # the message, or only this reading when the message had several


@dataclass(slots=True)
class Parsed:
    """A message read: its readings and the dead letters of what was wrong with it."""

    mid: int
    qos: int
    topic: str
    connection: int = 0  # which connection it came on: its packet id is valid only there
    candidates: list[Candidate] = field(default_factory=list)
    letters: list[Letter] = field(default_factory=list)

    @property
    def weight(self) -> int:
        return max(1, len(self.candidates))


class _NotFinite(ValueError):
    pass


def _not_finite(token: str) -> Any:
    raise _NotFinite(token)


def _decode(payload: bytes) -> tuple[Any, str | None]:
    """The JSON value of a payload, or why it has none."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text: {exc.reason} at byte {exc.start}"
    try:
        # orjson refuses NaN and Infinity, which the standard library's json lets through.
        return orjson.loads(payload), None
    except orjson.JSONDecodeError as exc:
        try:
            json.loads(text, parse_constant=_not_finite)
        except _NotFinite as bad:
            return None, f"value: {bad} is not a number JSON allows (a finite number is)"
        except ValueError:
            pass
        return None, f"not JSON: {exc}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


PROPERTY_SHAPE = "a number, a reading {time, value, unit?} or an array of readings"
DEVICE_SHAPE = (
    "{time, values: {property: value}}, a reading {property, time, value, unit?} "
    "or an array of them"
)


def parse_message(
    scheme: TopicScheme, topic: str, payload: bytes, received_at: datetime, *, mid: int, qos: int
) -> Parsed:
    """Turn one message into readings for the writer and dead letters for what is wrong.

    The topic says which device (and property) the readings are of: a payload may repeat
    the codes but not name others, since the broker lets a device publish only under its
    own topic. A reading without a time was taken when it arrived.
    """
    parsed = Parsed(mid, qos, topic)
    named = scheme.match(topic)
    if named is None:
        parsed.letters.append(Letter(topic, payload, f"topic is not of the scheme {scheme.scheme}"))
        return parsed
    device, prop = named
    data, problem = _decode(payload)
    if problem is not None:
        parsed.letters.append(Letter(topic, payload, problem))
        return parsed
    many = isinstance(data, list)
    entries = data if many else [data]
    if not entries:
        parsed.letters.append(Letter(topic, payload, "an empty array: no readings"))
        return parsed
    for index, entry in enumerate(entries):
        label = f"[{index}]" if many else ""
        own = orjson.dumps(entry) if many else payload
        if prop is not None:
            found = _property_reading(entry, device, prop, received_at, allow_bare=not many)
        else:
            found = _device_readings(entry, device, received_at)
        if isinstance(found, str):
            where = f"{label} " if label else ""
            shape = PROPERTY_SHAPE if prop is not None else DEVICE_SHAPE
            parsed.letters.append(Letter(topic, own, f"{where}{found} (expected {shape})"))
            continue
        for sub_label, item in found:
            where = ".".join(part for part in (label, sub_label) if part)
            parsed.candidates.append(Candidate(topic, item, where, own))
    # A dead letter keeps what was refused: the message if it held one reading, else the
    # reading alone (the others were stored).
    if len(parsed.candidates) > 1:
        for candidate in parsed.candidates:
            candidate.payload = orjson.dumps(candidate.item)
    return parsed


def _names_other(entry: dict[str, Any], key: str, code: str) -> str | None:
    named = entry.get(key)
    if named is not None and named != code:
        return f"{key}: the payload names {named!r} but the topic {code!r}"
    return None


def _property_reading(
    entry: Any, device: str, prop: str, received_at: datetime, *, allow_bare: bool
) -> list[tuple[str, dict[str, Any]]] | str:
    if _is_number(entry) and allow_bare:
        return [("", {"device": device, "property": prop, "time": received_at, "value": entry})]
    if not isinstance(entry, dict):
        return f"a reading is an object, not {type(entry).__name__}"
    other = _names_other(entry, "device", device) or _names_other(entry, "property", prop)
    if other:
        return other
    item = {
        "device": device,
        "property": prop,
        "time": entry.get("time", received_at),
        "value": entry.get("value"),
    }
    if "unit" in entry:
        item["unit"] = entry["unit"]
    return [("", item)]


def _device_readings(
    entry: Any, device: str, received_at: datetime
) -> list[tuple[str, dict[str, Any]]] | str:
    if not isinstance(entry, dict):
        return f"a reading is an object, not {type(entry).__name__}"
    other = _names_other(entry, "device", device)
    if other:
        return other
    when = entry.get("time", received_at)
    values = entry.get("values")
    if values is not None:
        if not isinstance(values, dict) or not values:
            return "values: an object of property codes and values"
        return [
            (f"values.{code}", {"device": device, "property": code, "time": when, "value": v})
            for code, v in values.items()
        ]
    prop = entry.get("property")
    if not isinstance(prop, str):
        return "neither values nor a property code"
    item = {"device": device, "property": prop, "time": when, "value": entry.get("value")}
    if "unit" in entry:
        item["unit"] = entry["unit"]
    return [("", item)]


def _database_unreachable(exc: BaseException) -> bool:
    """Whether a failure says the database cannot be reached (try again later, as it is)
    rather than that something in the batch breaks the writer."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, sqlite3.OperationalError | psycopg.OperationalError)


# What paho's thread hands the worker: topic, payload, packet id, QoS, when, which connection.
_Raw = tuple[str, bytes, int, int, datetime, int]


@dataclass
class Stats:
    """What the consumer has done since it started (read by the CLI and the tests)."""

    messages: int = 0
    created: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    batches: int = 0
    failed_writes: int = 0


class ReadingsConsumer:
    """Subscribes to the readings topic and stores what arrives; `start()`, then `stop()`."""

    def __init__(self, context: Context) -> None:
        self.context = context
        settings: Settings = context.settings
        self.settings = settings
        self.scheme = TopicScheme(settings.mqtt_topic)
        self.subscription = (
            f"$share/{SHARE_GROUP}/{self.scheme.filter}"
            if settings.mqtt_shared
            else self.scheme.filter
        )
        self.stats = Stats()
        self.subscribed = threading.Event()
        # None wakes the worker up to stop.
        self._queue: queue.Queue[_Raw | None] = queue.Queue()
        self._connection = 0
        self._stopping = threading.Event()
        self._disconnected = threading.Event()
        self._worker = threading.Thread(target=self._run, name="cityops-mqtt", daemon=True)
        self._client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=s.mqtt_client_id,
            protocol=mqtt.MQTTv5,
            # Acknowledge after the commit, not when paho hands the message over.
            manual_ack=True,
        )
        if s.mqtt_username:
            client.username_pw_set(s.mqtt_username, s.mqtt_password)
        if s.mqtt_tls:
            client.tls_set(ca_certs=str(s.mqtt_ca_file) if s.mqtt_ca_file else None)
        client.reconnect_delay_set(1, 30)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        return client

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Connect (retrying in the background until the broker answers) and consume."""
        s = self.settings
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        # MQTT 5 ends a session at disconnect unless it is given an expiry: the broker
        # keeps our subscription and queues messages for this long while we are away.
        properties.SessionExpiryInterval = s.mqtt_session_expiry_s
        # Mosquitto otherwise sends only 20 messages ahead of our acknowledgements, which
        # would cap a batch at 20 messages: let a whole batch (and the next) be in flight.
        properties.ReceiveMaximum = min(65_535, max(100, 2 * s.mqtt_batch_max))
        self._worker.start()
        self._client.connect_async(
            s.mqtt_host, s.mqtt_port, keepalive=30, clean_start=False, properties=properties
        )
        self._client.loop_start()

    def stop(self) -> None:
        """Stop taking messages, finish the batch in hand, and disconnect.

        Messages received but not yet in a batch are not acknowledged: the broker delivers
        them again when the consumer comes back.
        """
        self._stopping.set()
        self._queue.put(None)
        if self._worker.is_alive():
            self._worker.join(STOP_TIMEOUT_S)
        if self._client.is_connected():
            self._client.disconnect()
            # Let paho's thread send the last acknowledgements and the DISCONNECT.
            self._disconnected.wait(STOP_TIMEOUT_S)
        self._client.loop_stop()
        log.info(
            "MQTT consumer stopped: %d messages, %d readings stored, %d duplicates, "
            "%d dead letters",
            self.stats.messages,
            self.stats.created,
            self.stats.duplicates,
            self.stats.dead_letters,
        )

    @property
    def running(self) -> bool:
        return self._worker.is_alive()

    # -- paho's network thread: never raise here, it would end that thread ---------------

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.error("MQTT broker %s:%d refused us: %s", *self._address(), reason)
            return
        log.info(
            "connected to MQTT broker %s:%d as %s (session kept: %s)",
            *self._address(),
            self.settings.mqtt_client_id,
            flags.session_present,
        )
        # A message from an earlier connection is not acknowledged on this one: the broker
        # delivers it again (session kept) and may reuse its packet id for another message.
        self._connection += 1
        # Also when the session was kept: the broker may have lost it, or the scheme changed.
        client.subscribe(self.subscription, qos=1)

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        log.warning("MQTT broker %s:%d does not answer; trying again", *self._address())

    def _on_subscribe(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        reasons: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        if any(r.is_failure for r in reasons):
            log.error("MQTT broker refused the subscription to %s: %s", self.subscription, reasons)
            return
        log.info("subscribed to %s (QoS %s)", self.subscription, reasons[0].value)
        self.subscribed.set()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        if self._stopping.is_set():
            return  # not acknowledged: delivered again after the restart
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = repr(message._topic)[:200]
        now = self.context.clock.now()
        self._queue.put(
            (topic, bytes(message.payload), message.mid, message.qos, now, self._connection)
        )

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self.subscribed.clear()
        self._disconnected.set()
        if not self._stopping.is_set():
            log.warning("disconnected from MQTT broker (%s); reconnecting", reason)

    def _address(self) -> tuple[str, int]:
        return self.settings.mqtt_host, self.settings.mqtt_port

    # -- the worker thread ---------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                batch = self._take()
                if batch:
                    self._process(batch)
            except Exception:  # a bug here must not silently end consumption
                log.exception("MQTT batch failed: delivered again after the next reconnect")
                time.sleep(BACKOFF_FIRST_S)

    def _take(self) -> list[Parsed]:
        """The next batch: what arrives within `mqtt_batch_ms` of its first message, up to
        `mqtt_batch_max` readings."""
        first = self._queue.get()
        if first is None:
            return []
        batch = [self._parse(first)]
        weight = batch[0].weight
        deadline = time.monotonic() + self.settings.mqtt_batch_ms / 1000
        while weight < self.settings.mqtt_batch_max:
            remaining = deadline - time.monotonic()
            try:
                raw = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
            if raw is None:
                break
            batch.append(self._parse(raw))
            weight += batch[-1].weight
        return batch

    def _parse(self, raw: _Raw) -> Parsed:
        topic, payload, mid, qos, received_at, connection = raw
        try:
            parsed = parse_message(self.scheme, topic, payload, received_at, mid=mid, qos=qos)
        except Exception as exc:  # a payload that breaks the parser is still only one message
            log.exception("MQTT message on %s could not be read", topic)
            parsed = Parsed(mid, qos, topic)
            parsed.letters.append(Letter(topic, payload, f"could not be read: {exc!r}"))
        parsed.connection = connection
        return parsed

    def _process(self, batch: list[Parsed]) -> None:
        """Store a batch and acknowledge it; on failure back off and try the same batch
        again (never acknowledging what was not committed) until it goes through or the
        consumer stops."""
        failures = 0
        tries = 0  # in a row, for a reason other than an unreachable database
        while True:
            try:
                if tries >= TRIES_BEFORE_SPLIT:
                    self._store_one_by_one(batch)
                else:
                    self._store(batch)
            except Exception as exc:
                tries = 0 if _database_unreachable(exc) else tries + 1
                self.stats.failed_writes += 1
                failures += 1
                delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (failures - 1))
                log.warning(
                    "could not store %d MQTT message(s) (%s: %s); trying again in %.1f s",
                    len(batch),
                    type(exc).__name__,
                    str(exc).splitlines()[0][:200] if str(exc) else "",
                    delay,
                    exc_info=tries == 1,
                )
                if self._stopping.wait(delay):
                    return  # not acknowledged: the broker delivers them again
                continue
            for parsed in batch:
                if parsed.qos > 0 and parsed.connection == self._connection:
                    self._client.ack(parsed.mid, parsed.qos)
            return

    def _store(self, batch: list[Parsed]) -> None:
        """The batch's readings in one transaction, then its dead letters in another."""
        candidates = [c for parsed in batch for c in parsed.candidates]
        results = self.context.readings.write([c.item for c in candidates]) if candidates else []
        statuses = [r.status for r in results]
        letters: list[Letter] = []
        start = 0
        for parsed in batch:  # the letters in the order the messages came
            letters.extend(parsed.letters)
            mine = results[start : start + len(parsed.candidates)]
            for candidate, result in zip(parsed.candidates, mine, strict=True):
                if result.status == "rejected":
                    problems = "; ".join(f"{e['path']}: {e['message']}" for e in result.errors)
                    where = f"{candidate.label} " if candidate.label else ""
                    letters.append(Letter(candidate.topic, candidate.payload, where + problems))
            start += len(parsed.candidates)
        # The readings are committed: if this fails, the retry finds them as duplicates.
        self._record(letters)
        stats = self.stats
        stats.messages += len(batch)
        stats.created += statuses.count("created")
        stats.duplicates += statuses.count("duplicate")
        stats.dead_letters += len(letters)
        stats.batches += 1

    def _store_one_by_one(self, batch: list[Parsed]) -> None:
        """Each message alone: one that still breaks the writer becomes a dead letter, and
        an unreachable database stops the pass (the whole batch is tried again)."""
        for parsed in batch:
            try:
                self._store([parsed])
            except Exception as exc:
                if _database_unreachable(exc):
                    raise
                log.exception("MQTT message on %s breaks the writer: dead letter", parsed.topic)
                payloads = [c.payload for c in parsed.candidates] or [b""]
                self._record(
                    [
                        Letter(parsed.topic, payload, f"could not be stored: {exc!r}"[:500])
                        for payload in payloads
                    ]
                )
                self.stats.messages += 1
                self.stats.dead_letters += len(payloads)

    def _record(self, letters: list[Letter]) -> None:
        if not letters:
            return
        now = self.context.clock.now()
        uow = self.context.unit_of_work()
        try:
            for letter in letters:
                record_dead_letter(
                    uow.session,
                    channel=CHANNEL,
                    topic=letter.topic,
                    payload=letter.payload,
                    reason=letter.reason,
                    now=now,
                )
            uow.commit()
        finally:
            uow.close()
