"""`--days`, `--from`, `--to` (report, export): whole local days, both ends included."""

from __future__ import annotations

from datetime import date

import pytest

from scheduler.cli.times import Period, period
from scheduler.errors import CrampguardError

TODAY = date(2026, 11, 25)


def test_the_default_is_the_n_days_ending_today() -> None:
    assert period(days=None, start=None, end=None, today=TODAY, default_days=30) == \
        Period(date(2026, 10, 27), TODAY)
    assert period(days=None, start=None, end=None, today=TODAY, default_days=30).days == 30


def test_no_default_means_the_whole_journal_or_everything_up_to_to() -> None:
    assert period(days=None, start=None, end=None, today=TODAY, default_days=None) is None
    up_to = period(days=None, start=None, end="2026-03-31", today=TODAY, default_days=None)
    assert up_to is not None and up_to.last == date(2026, 3, 31)
    assert up_to.first.year == 1970


def test_days_count_back_from_to() -> None:
    assert period(days=7, start=None, end="2026-03-31", today=TODAY, default_days=30) == \
        Period(date(2026, 3, 25), date(2026, 3, 31))


def test_from_and_to_are_both_included_and_to_defaults_to_today() -> None:
    assert period(days=None, start="2026-03-01", end="2026-03-31", today=TODAY,
                  default_days=30).days == 31
    assert period(days=None, start="2026-11-25", end=None, today=TODAY,
                  default_days=30) == Period(TODAY, TODAY)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"days": 7, "start": "2026-03-01"}, r"--days and --from: give one of them"),
    ({"start": "2026-03-31", "end": "2026-03-01"},
     r"--from 2026-03-31 is after --to 2026-03-01"),
    ({"start": "2026-13-01"},
     r"--from: not a date \(got '2026-13-01'\): months go 01 to 12; write YYYY-MM-DD"),
    ({"end": "yesterday"}, r"--to: not a date \(got 'yesterday'\)"),
    ({"start": "0999-01-01"}, r"--from: give a date between the years 1970 and 9000"),
    ({"days": 0}, r"--days: give a number of days from 1 to 3660 \(got 0\)"),
    ({"start": "1970-01-01", "end": "2026-01-01"}, r"is 20455 days; a period is at most 3660 days"),
])
def test_bad_dates_and_ranges_say_what_to_write(kwargs: dict[str, object],
                                                message: str) -> None:
    args = {"days": None, "start": None, "end": None, **kwargs}
    with pytest.raises(CrampguardError, match=message):
        period(**args, today=TODAY, default_days=30)  # type: ignore[arg-type]
