"""gui.formats: one date-time format for every screen (issue 17 point 8)."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone

import pytest

from evalsync_gui.gui.formats import format_datetime


@pytest.fixture
def utc_plus_2(monkeypatch):
    """A fixed local zone two hours east of UTC, so 'local time' is checkable."""
    monkeypatch.setenv("TZ", "EET-2")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="time.tzset is POSIX-only")
def test_zulu_text_is_shown_in_local_time_to_the_minute(utc_plus_2):
    assert format_datetime("2026-09-02T23:20:14Z") == "2026-09-03 01:20"


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="time.tzset is POSIX-only")
def test_seconds_when_asked(utc_plus_2):
    assert format_datetime("2026-09-02T23:20:14+00:00", seconds=True) == "2026-09-03 01:20:14"


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="time.tzset is POSIX-only")
def test_text_without_offset_is_utc_as_the_database_stores_it(utc_plus_2):
    assert format_datetime("2026-11-27 11:31:05") == "2026-11-27 13:31"


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="time.tzset is POSIX-only")
def test_datetimes_and_timestamps(utc_plus_2):
    aware = datetime(2026, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert format_datetime(aware) == "2026-01-01 17:00"
    assert format_datetime(datetime(2026, 1, 1, 10, 0)) == "2026-01-01 12:00"
    assert format_datetime(0, seconds=True) == "1970-01-01 02:00:00"


def test_empty_and_unparseable_values():
    assert format_datetime(None) == ""
    assert format_datetime("") == ""
    assert format_datetime("soon") == "soon"
    assert os.environ.get("TZ") != "EET-2"  # the zone fixture did not leak
