"""The MQTT consumer of readings against the real Mosquitto on 127.0.0.1:1883: readings in
(and a duplicate not stored twice), bad payloads to dead letters, acknowledgement only after
commit, messages kept by the broker while the consumer is down, an alarm that opens a case.

The consumer writes from its own thread and commits, so each database (SQLite, PostgreSQL)
is a real one of this module's, migrated once; every test has its own topic prefix, client
id and devices, so tests do not see each other's messages or rows.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from tests.conftest import POSTGRES_ADMIN_URL
from tests.factories import GRID_A, inside, migrated_district

from cityops.bootstrap import Context, build_context
from cityops.cases.models import Case
from cityops.catalog.models import AutomationRule
from cityops.config import Settings
from cityops.ingest.mqtt import ReadingsConsumer, TopicScheme, parse_message
from cityops.kit.storage import LocalStorage
from cityops.org.models import Department
from cityops.sensing.models import (
    Alarm,
    AlarmRule,
    Datastream,
    DeadLetter,
    Device,
    DeviceType,
    DeviceTypeProperty,
    ObservedProperty,
    Reading,
)

HOST, PORT = "127.0.0.1", 1883
WAIT_S = 5.0


def _broker_closed() -> str | None:
    try:
        socket.create_connection((HOST, PORT), timeout=1).close()
    except OSError as exc:
        return f"no MQTT broker on {HOST}:{PORT} ({exc})"
    return None


_CLOSED = _broker_closed()


def needs_broker() -> None:
    """Skip without a broker, with the reason; in CI (CI=true) fail instead: there the
    broker must run."""
    if _CLOSED is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(_CLOSED)
        pytest.skip(_CLOSED)


def wait_until(check: Callable[[], bool], timeout: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


# -- the database of this module, and devices ----------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database with the test district, the observed properties and a rule that
    dispatches sensor cases of P0101 at once, committed; dropped afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('mqtt') / 'mqtt.db'}"
        _prepare(url)
        yield url
        return
    base, _, _ = request.getfixturevalue("postgres_url").rpartition("/")
    name = f"cityops_mqtt_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{base}/{name}"
    _prepare(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _prepare(url: str) -> None:
    migrated_district(url)
    engine = create_engine(url)
    with Session(engine) as session:
        session.add_all(
            [
                ObservedProperty(code="ch4", name="可燃气体浓度"),
                ObservedProperty(code="temp", name="温度"),
                AutomationRule(
                    name="sensor-parts",
                    class_code="P0101",
                    source_kind="sensor",
                    min_confidence=0.0,
                    auto_accept=True,
                    auto_file=True,
                    auto_dispatch=True,
                    dispatch_to="department",
                    active=True,
                ),
            ]
        )
        session.commit()
    engine.dispose()


@dataclass
class Devices:
    """What `make_devices` registered: the type's id and the devices' codes."""

    type_id: int
    codes: list[str]


def make_devices(context: Context, tag: str, count: int = 2) -> Devices:
    """A gas-sensor type observing ch4 (%LEL, 0-100) and temp (°C), and `count` devices of
    it in grid A (owned by the sanitation department), each with its two datastreams."""
    now = datetime.now(UTC)
    with context.sessions() as session:
        props = {p.code: p for p in session.scalars(select(ObservedProperty))}
        dtype = DeviceType(code=f"gas-{tag}", name="化粪池可燃气体监测仪", report_interval_s=60)
        session.add(dtype)
        session.flush()
        units = {"ch4": ("%LEL", 0.0, 100.0), "temp": ("°C", -40.0, 85.0)}
        for code, (unit, low, high) in units.items():
            session.add(
                DeviceTypeProperty(
                    device_type_id=dtype.id,
                    property_id=props[code].id,
                    unit_symbol=unit,
                    min_value=low,
                    max_value=high,
                )
            )
        dept = session.scalar(select(Department.id).where(Department.code == "HW"))
        lon, lat = inside(GRID_A)
        codes = []
        for n in range(1, count + 1):
            device = Device(
                code=f"GAS-{tag}-{n}",
                name=f"{n}号化粪池",
                device_type_id=dtype.id,
                lon=lon,
                lat=lat,
                grid_code=GRID_A,
                department_id=dept,
                created_at=now,
            )
            session.add(device)
            session.flush()
            for code, (unit, _, _) in units.items():
                session.add(
                    Datastream(
                        device_id=device.id,
                        property_id=props[code].id,
                        name=f"{device.name} {code}",
                        unit_symbol=unit,
                    )
                )
            codes.append(device.code)
        session.commit()
        return Devices(dtype.id, codes)


# -- the harness: a context, consumers and a publisher per test ----------------------------


@dataclass
class Harness:
    context: Context
    prefix: str
    client_id: str
    tmp: Path
    publisher: mqtt.Client
    consumers: list[ReadingsConsumer] = field(default_factory=list)
    contexts: list[Context] = field(default_factory=list)

    def consumer(self, *, topic: str = "{device}/{property}", **settings: Any) -> ReadingsConsumer:
        """A consumer started on this test's prefix, subscribed when returned."""
        context = self.context
        if topic != "{device}/{property}" or settings:
            context = _context(
                self.context.settings.database_url,
                self.tmp,
                mqtt_topic=f"{self.prefix}/{topic}",
                mqtt_client_id=self.client_id,
                **settings,
            )
            self.contexts.append(context)
        consumer = ReadingsConsumer(context)
        self.consumers.append(consumer)
        consumer.start()
        assert consumer.subscribed.wait(WAIT_S), "the consumer did not subscribe"
        return consumer

    def publish(self, topic: str, payload: bytes | str | float) -> None:
        data = payload if isinstance(payload, bytes) else str(payload).encode()
        info = self.publisher.publish(f"{self.prefix}/{topic}", data, qos=1)
        info.wait_for_publish(WAIT_S)

    def readings(self, codes: list[str]) -> list[tuple[str, str, float]]:
        with self.context.sessions() as session:
            rows = session.execute(
                select(Device.code, ObservedProperty.code, Reading.value)
                .join(Datastream, Datastream.id == Reading.datastream_id)
                .join(Device, Device.id == Datastream.device_id)
                .join(ObservedProperty, ObservedProperty.id == Datastream.property_id)
                .where(Device.code.in_(codes))
                .order_by(Device.code, ObservedProperty.code, Reading.observed_at)
            ).all()
        return [(d, p, v) for d, p, v in rows]

    def dead_letters(self) -> list[DeadLetter]:
        with self.context.sessions() as session:
            return list(
                session.scalars(
                    select(DeadLetter)
                    .where(DeadLetter.topic.startswith(self.prefix))
                    .order_by(DeadLetter.id)
                )
            )


def _context(url: str, tmp: Path, **settings: Any) -> Context:
    return build_context(
        Settings(
            database_url=url,
            sqlite_synchronous="NORMAL",
            hub="local",
            storage_dir=tmp / "blobs",
            mqtt_session_expiry_s=60,
            **settings,
        ),
        storage=LocalStorage(tmp / "blobs"),
    )


@pytest.fixture
def harness(database_url: str, tmp_path: Path) -> Iterator[Harness]:
    needs_broker()
    tag = uuid.uuid4().hex[:8]
    prefix, client_id = f"test/{tag}/readings", f"cityops-test-{tag}"
    context = _context(
        database_url,
        tmp_path,
        mqtt_topic=f"{prefix}/{{device}}/{{property}}",
        mqtt_client_id=client_id,
    )
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{tag}")
    publisher.connect(HOST, PORT)
    publisher.loop_start()
    h = Harness(context, prefix, client_id, tmp_path, publisher)
    yield h
    for consumer in h.consumers:
        consumer.stop()
    publisher.disconnect()
    publisher.loop_stop()
    for each in [context, *h.contexts]:
        each.engine.dispose()


def iso(seconds_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()


# -- readings in ---------------------------------------------------------------------------


def test_readings_round_trip_and_duplicates(harness: Harness) -> None:
    devices = make_devices(harness.context, harness.prefix.split("/")[1])
    one, two = devices.codes
    consumer = harness.consumer()
    first = f'{{"time": "{iso(60)}", "value": 1.5, "unit": "%LEL"}}'
    harness.publish(f"{one}/ch4", first)
    harness.publish(f"{one}/temp", 21.5)  # a bare number: taken when it arrived
    epoch_ms = int((datetime.now(UTC) - timedelta(seconds=30)).timestamp() * 1000)
    harness.publish(
        f"{two}/ch4", f'[{{"time": "{iso(50)}", "value": 3}}, {{"time": {epoch_ms}, "value": 4}}]'
    )
    harness.publish(f"{one}/ch4", first)  # sent again: stored once
    assert wait_until(lambda: consumer.stats.messages == 4)
    assert harness.readings(devices.codes) == [
        (one, "ch4", 1.5),
        (one, "temp", 21.5),
        (two, "ch4", 3.0),
        (two, "ch4", 4.0),
    ]
    assert (consumer.stats.created, consumer.stats.duplicates) == (4, 1)
    assert harness.dead_letters() == []


def test_a_device_topic_carries_several_properties(harness: Harness) -> None:
    devices = make_devices(harness.context, harness.prefix.split("/")[1], count=1)
    (one,) = devices.codes
    consumer = harness.consumer(topic="{device}")
    harness.publish(one, f'{{"time": "{iso(30)}", "values": {{"ch4": 1.2, "temp": 21}}}}')
    harness.publish(
        one,
        f'[{{"property": "ch4", "time": "{iso(20)}", "value": 2.5}}, '
        f'{{"time": "{iso(10)}", "values": {{"temp": 22}}}}]',
    )
    assert wait_until(lambda: consumer.stats.messages == 2)
    assert harness.readings([one]) == [
        (one, "ch4", 1.2),
        (one, "ch4", 2.5),
        (one, "temp", 21.0),
        (one, "temp", 22.0),
    ]
    assert harness.dead_letters() == []


def test_messages_published_while_the_consumer_is_down_arrive_when_it_is_back(
    harness: Harness,
) -> None:
    devices = make_devices(harness.context, harness.prefix.split("/")[1], count=1)
    (one,) = devices.codes
    harness.consumer().stop()  # the broker now keeps a session for our client id
    for n in range(3):
        harness.publish(f"{one}/ch4", f'{{"time": "{iso(30 - n)}", "value": {n}}}')
    consumer = harness.consumer()
    assert wait_until(lambda: len(harness.readings([one])) == 3)
    assert consumer.stats.created == 3


# -- bad payloads --------------------------------------------------------------------------


def test_bad_payloads_become_dead_letters_and_good_ones_are_all_stored(harness: Harness) -> None:
    devices = make_devices(harness.context, harness.prefix.split("/")[1], count=1)
    (one,) = devices.codes
    consumer = harness.consumer()
    good = iter(range(100))

    def publish_good() -> None:
        harness.publish(f"{one}/ch4", f'{{"time": "{iso(60 - next(good))}", "value": 5}}')

    bad: list[tuple[str, bytes | str]] = [
        (f"{one}/ch4", b"not json {"),
        (f"{one}/ch4", b"\xff\xfe\x00"),
        ("NO-SUCH-DEVICE/ch4", f'{{"time": "{iso(5)}", "value": 1}}'),
        (f"{one}/humidity", f'{{"time": "{iso(5)}", "value": 1}}'),
        (f"{one}/ch4", f'{{"time": "{iso(5)}", "value": 1, "unit": "ppm"}}'),
        (f"{one}/ch4", f'{{"time": "{iso(5)}", "value": NaN}}'),
        (f"{one}/ch4", '"twelve"'),
        (f"{one}/ch4", f'{{"time": "{iso(5)}"}}'),
        (
            f"{one}/temp",
            f'[{{"time": "{iso(40)}", "value": 20}}, 7, {{"time": "{iso(39)}", "value": 21}}]',
        ),
    ]
    publish_good()
    for topic, payload in bad:
        harness.publish(topic, payload if isinstance(payload, bytes) else payload.encode())
        publish_good()
    assert wait_until(lambda: consumer.stats.messages == 2 * len(bad) + 1)
    letters = harness.dead_letters()
    reasons = [letter.reason for letter in letters]
    expected = [
        "not JSON",
        "not UTF-8",
        "no device 'NO-SUCH-DEVICE'",
        "does not observe 'humidity'",
        "not 'ppm'",
        "NaN",
        "not str",
        "value: a number",
        "[1] a reading is an object",
    ]
    assert len(reasons) == len(expected), reasons
    for reason, words in zip(reasons, expected, strict=True):
        assert words in reason, reasons
    assert letters[0].topic == f"{harness.prefix}/{one}/ch4"
    assert letters[0].payload == "not json {"
    assert letters[1].payload == "\\xff\\xfe\\x00"  # kept readable, and PostgreSQL refuses NUL
    assert letters[-1].payload == "7"  # the bad reading alone: the two others were stored
    assert all(letter.channel == "mqtt" for letter in letters)
    stored = harness.readings([one])
    assert len([r for r in stored if r[1] == "ch4"]) == len(bad) + 1
    assert [r[2] for r in stored if r[1] == "temp"] == [20.0, 21.0]
    # Still consuming.
    assert consumer.running
    publish_good()
    assert wait_until(lambda: len(harness.readings([one])) == len(stored) + 1)


# -- acknowledged only after commit --------------------------------------------------------


def _database_down() -> OperationalError:
    return OperationalError("INSERT INTO readings ...", {}, Exception("connection refused"))


def test_a_failed_write_is_tried_again_not_lost(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    devices = make_devices(harness.context, harness.prefix.split("/")[1], count=1)
    (one,) = devices.codes
    writer = harness.context.readings
    real_write = writer.write
    calls: list[int] = []

    def flaky(items: list[Any]) -> Any:
        calls.append(len(items))
        if len(calls) == 1:
            raise _database_down()
        return real_write(items)

    monkeypatch.setattr(writer, "write", flaky)
    consumer = harness.consumer()
    harness.publish(
        f"{one}/ch4", f'[{{"time": "{iso(20)}", "value": 1}}, {{"time": "{iso(10)}", "value": 2}}]'
    )
    assert wait_until(lambda: len(harness.readings([one])) == 2)
    assert consumer.stats.failed_writes == 1
    assert calls == [2, 2]  # the same batch, again


def test_nothing_is_acknowledged_before_it_is_committed(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    devices = make_devices(harness.context, harness.prefix.split("/")[1], count=1)
    (one,) = devices.codes
    writer = harness.context.readings

    def down(_items: list[Any]) -> Any:
        raise _database_down()

    with monkeypatch.context() as patch:
        patch.setattr(writer, "write", down)
        consumer = harness.consumer()
        harness.publish(f"{one}/ch4", f'{{"time": "{iso(20)}", "value": 1}}')
        harness.publish(f"{one}/ch4", f'{{"time": "{iso(10)}", "value": 2}}')
        assert wait_until(lambda: consumer.stats.failed_writes >= 1)
        consumer.stop()  # gives up on the batch it could not store
    assert harness.readings([one]) == []
    # Not acknowledged, so the broker delivers both again to the same session.
    harness.consumer()
    assert wait_until(lambda: len(harness.readings([one])) == 2)


def test_a_batch_committed_across_a_reconnect_is_acknowledged_once_delivered_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    devices = make_devices(harness.context, harness.prefix.split("/")[1], count=1)
    (one,) = devices.codes
    writer = harness.context.readings
    real_write = writer.write
    writing, go_on = threading.Event(), threading.Event()

    def slow(items: list[Any]) -> Any:
        writing.set()
        go_on.wait(WAIT_S)
        return real_write(items)

    monkeypatch.setattr(writer, "write", slow)
    consumer = harness.consumer()
    harness.publish(f"{one}/ch4", f'{{"time": "{iso(10)}", "value": 1}}')
    assert writing.wait(WAIT_S)
    # The connection breaks while the batch is being written: paho reconnects, the broker
    # delivers the unacknowledged message again on the new connection.
    consumer.subscribed.clear()
    sock = consumer._client.socket()
    assert isinstance(sock, socket.socket)
    sock.shutdown(socket.SHUT_RDWR)
    assert consumer.subscribed.wait(WAIT_S)
    go_on.set()
    assert wait_until(lambda: consumer.stats.messages == 2)
    assert (consumer.stats.created, consumer.stats.duplicates) == (1, 1)
    assert harness.readings([one]) == [(one, "ch4", 1.0)]
    # Acknowledged on the second delivery: a consumer that takes over gets nothing more.
    consumer.stop()
    again = harness.consumer()
    time.sleep(0.3)
    assert again.stats.messages == 0


def test_a_message_that_breaks_the_writer_becomes_a_dead_letter_alone(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    devices = make_devices(harness.context, harness.prefix.split("/")[1], count=1)
    (one,) = devices.codes
    monkeypatch.setattr("cityops.ingest.mqtt.BACKOFF_FIRST_S", 0.01)
    # Held back until all three are queued, so that they share a batch.
    consumer = harness.consumer(mqtt_batch_ms=300)
    real_write = consumer.context.readings.write

    def breaks_on_666(items: list[Any]) -> Any:
        if any(item["value"] == 666 for item in items):
            raise RuntimeError("a bug the value 666 brings out")
        return real_write(items)

    monkeypatch.setattr(consumer.context.readings, "write", breaks_on_666)
    for n, value in enumerate([1, 666, 2]):
        harness.publish(f"{one}/ch4", f'{{"time": "{iso(30 - n)}", "value": {value}}}')
    assert wait_until(lambda: consumer.stats.messages == 3)
    assert [r[2] for r in harness.readings([one])] == [1.0, 2.0]
    (letter,) = harness.dead_letters()
    assert "could not be stored: RuntimeError('a bug the value 666 brings out')" in letter.reason
    assert '"value": 666' in letter.payload


# -- an alarm that opens a case ------------------------------------------------------------


def test_a_reading_above_a_threshold_raises_an_alarm_that_opens_a_case(harness: Harness) -> None:
    devices = make_devices(harness.context, harness.prefix.split("/")[1], count=1)
    (one,) = devices.codes
    now = datetime.now(UTC)
    with harness.context.sessions() as session:
        ch4 = session.scalar(select(ObservedProperty.id).where(ObservedProperty.code == "ch4"))
        session.add(
            AlarmRule(
                name="化粪池可燃气体超限",
                kind="threshold",
                device_type_id=devices.type_id,
                property_id=ch4,
                direction="above",
                levels=[{"severity": "warning", "raise": 25}],
                clear_at=20,
                case_class_code="P0101",
                case_severity="warning",
                created_at=now,
                updated_at=now,
            )
        )
        session.commit()
    harness.context.invalidate_reference()
    consumer = harness.consumer()
    harness.publish(f"{one}/ch4", f'{{"time": "{iso(20)}", "value": 10}}')
    assert wait_until(lambda: consumer.stats.messages == 1)
    sent = time.monotonic()
    harness.publish(f"{one}/ch4", f'{{"time": "{iso(10)}", "value": 30}}')

    def case_of_alarm() -> Case | None:
        with harness.context.sessions() as session:
            alarm = session.scalar(
                select(Alarm).join(Device, Device.id == Alarm.device_id).where(Device.code == one)
            )
            if alarm is None or alarm.case_id is None:
                return None
            return session.get(Case, alarm.case_id)

    assert wait_until(lambda: case_of_alarm() is not None)
    elapsed = time.monotonic() - sent
    case = case_of_alarm()
    assert case is not None
    assert (case.source_kind, case.class_code) == ("sensor", "P0101")
    assert elapsed < 1.0, f"the case took {elapsed:.2f} s"


def test_the_api_process_consumes_when_enabled(harness: Harness) -> None:
    from fastapi.testclient import TestClient

    from cityops.app import create_app

    devices = make_devices(harness.context, harness.prefix.split("/")[1], count=1)
    (one,) = devices.codes
    context = _context(harness.context.settings.database_url, harness.tmp, mqtt_enabled=True,
                       mqtt_topic=f"{harness.prefix}/{{device}}/{{property}}",
                       mqtt_client_id=harness.client_id)  # fmt: skip
    harness.contexts.append(context)
    harness.consumer().stop()  # the session exists: what is published now waits for us
    with TestClient(create_app(context.settings, context=context, check_schema=False)):
        harness.publish(f"{one}/ch4", f'{{"time": "{iso(10)}", "value": 7}}')
        assert wait_until(lambda: harness.readings([one]) == [(one, "ch4", 7.0)])


# -- the pieces without a broker ------------------------------------------------------------


def test_topic_schemes() -> None:
    scheme = TopicScheme("cityops/readings/{device}/{property}")
    assert scheme.filter == "cityops/readings/+/+"
    assert scheme.match("cityops/readings/GAS-1/ch4") == ("GAS-1", "ch4")
    assert scheme.match("cityops/readings/GAS-1") is None
    assert scheme.match("other/readings/GAS-1/ch4") is None
    assert TopicScheme("site/{device}/up").match("site/GAS-1/up") == ("GAS-1", None)
    for wrong in ["cityops/readings", "a/{device}/{device}", "a/+/{device}", "a/x{device}"]:
        with pytest.raises(ValueError, match="topic scheme"):
            TopicScheme(wrong)


def test_a_payload_may_not_name_another_device_than_its_topic() -> None:
    scheme = TopicScheme("r/{device}/{property}")
    now = datetime.now(UTC)
    parsed = parse_message(
        scheme, "r/GAS-1/ch4", b'{"device": "GAS-2", "value": 1}', now, mid=1, qos=1
    )
    assert parsed.candidates == []
    assert "names 'GAS-2'" in parsed.letters[0].reason
    parsed = parse_message(scheme, "r/GAS-1/ch4", b'{"value": 1}', now, mid=1, qos=1)
    assert parsed.candidates[0].item == {
        "device": "GAS-1",
        "property": "ch4",
        "time": now,
        "value": 1,
    }


# -- the command ---------------------------------------------------------------------------


def test_cityops_mqtt_runs_in_the_foreground_until_terminated(tmp_path: Path) -> None:
    needs_broker()
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrated_district(url)
    tag = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        "CITYOPS_DATABASE_URL": url,
        "CITYOPS_HUB": "local",
        "CITYOPS_MQTT_TOPIC": f"test/{tag}/{{device}}/{{property}}",
        "CITYOPS_MQTT_CLIENT_ID": f"cityops-cli-{tag}",
        "CITYOPS_MQTT_SESSION_EXPIRY_S": "5",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "cityops", "mqtt"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "subscribed to" in line:
                break
        assert f"subscribed to test/{tag}/+/+" in lines[-1], lines
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "stopped: 0 message(s)" in out
