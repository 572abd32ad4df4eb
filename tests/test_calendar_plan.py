"""The calendar's pure parts, in process: firings written as iCalendar and read back, and
the plan of what a sync puts, deletes and takes as answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from scheduler.calendar import items
from scheduler.calendar.items import Firing, Placed
from scheduler.calendar.plan import Completion, plan

ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 10, 24, 12, tzinfo=UTC)
STAMP = NOW


def firing(hours: float, **kw: object) -> Firing:
    values: dict = {"routine": "soak", "due": NOW + timedelta(hours=hours),
                    "title": "Foot soak", "message": "Soak; then dry, well."}
    values.update(kw)
    return Firing(**values)


def placed(f: Firing, **kw: object) -> Placed:
    """The item ``f`` as the collection would give it back."""
    found = items.read_item(f"/cal/{items.file_name(f.uid)}", '"e1"',
                            items.item(f, ZONE, STAMP).decode())
    assert found is not None
    return Placed(**{**found.__dict__, **kw})


def test_an_item_reads_back_as_crampguards_with_its_routine_due_and_digest() -> None:
    f = firing(3)
    back = placed(f)
    assert (back.routine, back.due, back.digest, back.kind) == ("soak", f.due, f.digest, "event")
    assert f.uid == "soak-20261024T150000Z@crampguard"
    assert items.parse_uid(f.uid) == ("soak", f.due)


def test_someone_elses_item_is_not_read_as_crampguards() -> None:
    text = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:soak-20261024T"
            "150000Z@example.org\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261024T150000Z\r\n"
            "X-CRAMPGUARD-ROUTINE:soak\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    assert items.read_item("/cal/x.ics", None, text) is None
    assert items.read_item("/cal/y.ics", None, "not a calendar") is None


def test_the_second_pass_of_the_hour_the_clock_goes_back_is_written_in_utc() -> None:
    first, second = datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30,
                                                                         tzinfo=UTC)
    cal = Calendar.from_ical(items.calendar([firing(0, due=first), firing(0, due=second,
                                                                          routine="b")],
                                            ZONE, STAMP))
    starts = [e["DTSTART"] for e in cal.walk("VEVENT")]
    assert [s.dt.astimezone(UTC) for s in starts] == [first, second]
    assert [s.params.get("TZID") for s in starts] == ["Europe/Berlin", None]


def test_an_answered_firing_has_no_alarm_and_a_todo_is_completed() -> None:
    event = Calendar.from_ical(items.item(firing(1, answer="done"), ZONE, STAMP))
    assert event.walk("VALARM") == []
    todo = Calendar.from_ical(items.item(firing(1, kind="todo", answer="done"), ZONE, STAMP))
    (part,) = todo.walk("VTODO")
    assert (str(part["STATUS"]), part.walk("VALARM")) == ("COMPLETED", [])
    skipped = Calendar.from_ical(items.item(firing(1, kind="todo", answer="skipped"), ZONE,
                                            STAMP))
    assert str(skipped.walk("VTODO")[0]["STATUS"]) == "CANCELLED"


def test_the_first_sync_puts_every_firing_ahead_and_the_next_nothing() -> None:
    wanted = [firing(h) for h in (1, 2, 30)]
    first = plan(wanted, [], NOW)
    assert [f for f, before in first.put] == wanted and first.delete == []
    again = plan(wanted, [placed(f) for f in wanted], NOW)
    assert (again.put, again.delete, again.unchanged) == ([], [], 3)


def test_a_changed_firing_is_put_over_its_item_and_one_gone_ahead_is_deleted() -> None:
    old = [firing(1), firing(2), firing(-2)]
    there = [placed(f) for f in old]
    moved = [firing(1, title="Warm foot soak"), firing(3)]
    result = plan(moved, there, NOW)
    assert [(f.due, before.href if before else None) for f, before in result.put] == [
        (moved[0].due, there[0].href), (moved[1].due, None)]
    # the firing 2 hours ahead no longer comes; the one 2 hours back is history
    assert result.delete == [there[1]]


def test_a_past_firing_answered_since_is_marked_but_never_made_afresh() -> None:
    past = firing(-1)
    result = plan([firing(-1, answer="done")], [placed(past)], NOW)
    assert [(f.answer, before is not None) for f, before in result.put] == [("done", True)]
    assert plan([firing(-1, answer="done")], [], NOW).put == []


def test_a_todo_completed_on_the_phone_is_an_answer_and_is_not_written_over() -> None:
    f = firing(2, kind="todo")
    at = NOW + timedelta(minutes=5)
    phone = placed(f, completed=True, completed_at=at)
    result = plan([f], [phone], NOW)
    assert result.completed == [Completion("soak", f.due, at)] and result.put == []
    # once the journal has it, the phone's item stands as it is
    answered = plan([firing(2, kind="todo", answer="done")], [phone], NOW)
    assert (answered.put, answered.completed, answered.unchanged) == ([], [], 1)
    # a past one, no longer among the firings wanted, is still an answer to record
    late = placed(firing(-3, kind="todo"), completed=True, completed_at=None)
    assert plan([], [late], NOW).completed == [Completion("soak", late.due, None)]
