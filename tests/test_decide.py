"""The one decision, pure: each rule of the precedence, and the order between them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.config.routine import Routine
from scheduler.daemon.decide import Pause, Up, World, decide, wait_ends

ZONE = ZoneInfo("Europe/Berlin")
DUE = datetime(2026, 3, 28, 21, 45, tzinfo=ZONE)  # the evening before the spring-forward


@dataclass
class Seen:
    idle_seconds: float | None = 0.0
    locked: bool = False
    dnd: str | None = None
    unknown: str | None = None


def routine(**extra: Any) -> Routine:
    schedule = {"at": "21:45", "catch_up": "30m", **extra.pop("schedule", {})}
    return Routine.model_validate({"schema_version": 1, "id": "soak", "title": "Soak",
                                   "message": "m", "schedule": schedule, **extra})


def quiet_from_23(at: datetime) -> bool:
    local = at.astimezone(ZONE).time()
    return local.hour >= 23 or local.hour < 7


def world(now: datetime, **kw: Any) -> World:
    return World(now=now, zone=ZONE, quiet=quiet_from_23, **kw)


def test_nothing_in_the_way_shows() -> None:
    assert decide(Up.of(routine(), DUE, "first"), world(DUE)).kind == "show"


def test_a_pause_over_the_due_instant_holds_and_counts_as_due_however_late() -> None:
    pause = Pause(DUE - timedelta(minutes=5), DUE + timedelta(minutes=5))
    verdict = decide(Up.of(routine(), DUE, "catch-up"),
                     world(DUE + timedelta(hours=3), pauses=(pause,)))
    assert (verdict.kind, verdict.counts_as_due) == ("hold", True)
    assert verdict.reason.startswith("paused until")


def test_quiet_hours_hold_and_do_not_count_as_due() -> None:
    night = DUE.replace(hour=23, minute=30)
    verdict = decide(Up.of(routine(), night, "first"), world(night))
    assert (verdict.kind, verdict.reason, verdict.counts_as_due) == ("hold", "quiet hours",
                                                                     False)
    ignoring = routine(schedule={"quiet_hours": "ignore"})
    assert decide(Up.of(ignoring, night, "first"), world(night)).kind == "show"


def test_too_late_is_missed_before_anything_that_holds_now() -> None:
    """Found three hours late inside quiet hours: it was due, and missed (not "quiet")."""
    verdict = decide(Up.of(routine(), DUE, "catch-up"), world(DUE + timedelta(hours=3)))
    assert (verdict.kind, verdict.counts_as_due) == ("miss", True)
    assert verdict.reason == "10800s late, catch_up is 1800s"


def test_a_pause_now_holds_a_reminder_released_inside_it() -> None:
    now = DUE + timedelta(minutes=10)
    pause = Pause(now - timedelta(minutes=1), now + timedelta(minutes=30))
    verdict = decide(Up.of(routine(), DUE, "release"), world(now, pauses=(pause,),
                                                            presence=Seen()))
    assert verdict.kind == "hold"


@pytest.mark.parametrize(("seen", "kind"), [
    (Seen(locked=True), "wait"),
    (Seen(idle_seconds=3600), "wait"),
    (Seen(dnd="dunst paused"), "wait"),
    (Seen(idle_seconds=10), "show"),
])
def test_presence_makes_a_reminder_wait(seen: Seen, kind: str) -> None:
    assert decide(Up.of(routine(), DUE, "first"), world(DUE, presence=seen)).kind == kind


def test_a_break_while_away_is_the_users_own_break() -> None:
    brk = routine(schedule={"at": None, "every": "50m", "between": "09:00-17:30",
                            "when_away": "skip"})
    at = DUE.replace(hour=10)
    verdict = decide(Up.of(brk, at, "first"), world(at, presence=Seen(locked=True)))
    assert (verdict.kind, verdict.counts_as_due) == ("hold", False)
    assert verdict.reason == "away (the screen is locked)"


def test_critical_passes_do_not_disturb_but_not_a_pause() -> None:
    urgent = routine(notify={"urgency": "critical"})
    assert decide(Up.of(urgent, DUE, "first"),
                  world(DUE, presence=Seen(dnd="fullscreen window"))).kind == "show"
    pause = Pause(DUE, DUE + timedelta(hours=1))
    assert decide(Up.of(urgent, DUE, "first"), world(DUE, pauses=(pause,))).kind == "hold"


def test_an_unknown_presence_or_a_gone_server_waits_and_says_which() -> None:
    unknown = decide(Up.of(routine(), DUE, "first"),
                     world(DUE, presence=Seen(unknown="the idle monitor went away")))
    assert (unknown.kind, unknown.on_server) == ("wait", False)
    assert "presence unknown" in unknown.reason
    server = decide(Up.of(routine(), DUE, "first"),
                    world(DUE, server_away="org.freedesktop.Notifications went away"))
    assert (server.kind, server.on_server) == ("wait", True)


def test_a_repeat_never_waits_it_is_held_alone() -> None:
    verdict = decide(Up.of(routine(), DUE, "repeat", at=DUE + timedelta(hours=2)),
                     world(DUE + timedelta(hours=2) - timedelta(minutes=80),
                           presence=Seen(locked=True)))
    assert verdict.kind == "hold"


def test_a_snooze_return_is_judged_on_its_own_end() -> None:
    until = DUE.replace(hour=23, minute=5)  # into quiet hours
    verdict = decide(Up.of(routine(), DUE, "snooze", at=until), world(until))
    assert (verdict.kind, verdict.reason) == ("hold", "quiet hours")
    late = decide(Up.of(routine(), DUE, "snooze", at=DUE + timedelta(minutes=10)),
                  world(DUE + timedelta(hours=1)))
    assert late.reason.startswith("the snooze ended 3000s ago")


def test_a_wait_ends_at_its_instant_plus_catch_up() -> None:
    assert wait_ends(Up.of(routine(), DUE, "first")) == DUE + timedelta(minutes=30)


def test_a_notice_shown_again_after_a_restart_never_waits_and_not_past_catch_up() -> None:
    """At start, on GNOME, an unanswered notice an earlier run showed comes back in its
    place: while the user is away it stays as it is (held), and past its catch_up too."""
    later = DUE + timedelta(minutes=10)
    assert decide(Up.of(routine(), DUE, "shown-again"), world(later)).kind == "show"
    away = decide(Up.of(routine(), DUE, "shown-again"),
                  world(later, presence=Seen(idle_seconds=3600)))
    assert (away.kind, away.counts_as_due) == ("hold", False)
    late = decide(Up.of(routine(), DUE, "shown-again"), world(DUE + timedelta(hours=1)))
    assert late.kind == "miss"
