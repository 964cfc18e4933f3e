"""The sensor fixture of tests/sensing, for the alarm frames tested here."""

from __future__ import annotations

from tests.sensing.conftest import sensors as sensors
