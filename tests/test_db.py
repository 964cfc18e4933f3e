"""Which failed transactions are run again."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from cityops.db import is_retryable


class _DriverError(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (IntegrityError("INSERT", {}, _DriverError("23505")), True),  # unique key race
        (OperationalError("UPDATE", {}, _DriverError("40P01")), True),  # deadlock
        (DBAPIError("UPDATE", {}, _DriverError("40001")), True),  # serialization failure
        (OperationalError("SELECT", {}, _DriverError("57014")), False),  # cancelled
        (OperationalError("SELECT", {}, _DriverError(None)), False),  # SQLite, say
        (ValueError("not a database error"), False),
    ],
)
def test_only_races_deadlocks_and_serialization_failures_are_retried(
    error: Exception, retry: bool
) -> None:
    assert is_retryable(error) is retry
