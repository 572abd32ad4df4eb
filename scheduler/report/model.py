"""The report's content, worked out: pure (no file, no clock, no drawing), so the HTML page
and the PNG show the same thing and tests check the numbers directly.

Inputs: the window (``stats.Window``: the period's first local midnight up to ``now``, the
end of the last day for a period in the past), the enabled routines, the catalog and the
evidence, and what the journal says (``Facts``: counted in SQL, see ``Journal.day_counts``
and ``Journal.tally``). The rules:

- **A routine's day** is the furthest any of its reminders that day got (legend.DAY:
  done, skipped, shown, missed, held), by the reminder's due day as ``stats`` places it;
  "not due" when nothing was recorded; today, with nothing recorded yet, "not over". The
  cell's title gives the counts (reminders due, shown, done, ...).
- **Night D** (local noon on D to noon on D + 1) sits under day D's evening. It is a cramp
  night, quiet or unknown exactly as ``stats`` resolves the cramp log (its docstring,
  "Known nights"); nights not over by ``now`` are "not over". A cramp night shows how many
  cramps stand for it and the worst severity logged.
- **The comparisons** are ``stats.cramp_relation`` over the same window and tally, so a
  report and `crampguard stats` over the same days agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from scheduler.i18n import N_, _, weekday
from scheduler.journal import stats
from scheduler.journal.events import MICROSECOND, Event
from scheduler.report.legend import DAY_LOOK, PRECEDENCE

if TYPE_CHECKING:
    from scheduler.config.catalog import Catalog
    from scheduler.config.evidence import StepEvidence
    from scheduler.config.routine import Routine
    from scheduler.journal.store import DayCount

#: The comparison's "no claim with too few nights" rule: the one `crampguard stats` uses.
MIN_NIGHTS = stats.MIN_NIGHTS
NO_EVIDENCE = N_("No published study we know of tested this.")
_KIND_WORDS = (("due", N_("{n} due")), ("delivered", N_("{n} shown")), ("done", N_("{n} done")),
               ("snoozed", N_("{n} snoozed")), ("skipped", N_("{n} skipped")),
               ("missed", N_("{n} missed")), ("held", N_("{n} held back")))
#: The months, in full (a month's heading) and short (a day in words).
MONTHS = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
          N_("July"), N_("August"), N_("September"), N_("October"), N_("November"),
          N_("December"))
SHORT_MONTHS = (N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May (short)"), N_("Jun"),
                N_("Jul"), N_("Aug"), N_("Sep"), N_("Oct"), N_("Nov"), N_("Dec"))


class EvidenceSource(Protocol):
    def for_step(self, step_id: str) -> StepEvidence | None: ...


@dataclass(frozen=True)
class Facts:
    """What the journal says about the window."""

    tally: stats.Tally
    days: Sequence[DayCount]
    #: the cramp log's events ("cramp", "no_cramp") recorded since the window's start
    cramp_log: Sequence[Event]


@dataclass(frozen=True)
class Cell:
    day: date
    status: str  # a legend.DAY key
    title: str  # the day, the status, the counts


@dataclass(frozen=True)
class RoutineRow:
    id: str
    title: str
    evening: bool
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Night:
    night: date
    status: str  # a legend.NIGHT key
    cramps: str | None  # how many cramps stand for it: "2", or "several"
    severity: int | None  # the worst severity logged, 1-5
    title: str

    @property
    def mark(self) -> str:
        """What the cell shows beside the symbol: the worst severity, where given."""
        return str(self.severity) if self.severity is not None else ""


@dataclass(frozen=True)
class Month:
    label: str  # "March 2026"
    start: int  # index into ReportModel.days
    stop: int


@dataclass(frozen=True)
class Comparison:
    title: str
    relation: stats.CrampRelation


@dataclass(frozen=True)
class StepNote:
    id: str
    summary: str
    quote: str
    source: str
    evidence: StepEvidence | None


@dataclass(frozen=True)
class Practice:
    id: str
    title: str
    steps: tuple[StepNote, ...]


@dataclass(frozen=True)
class ReportModel:
    first: date
    last: date
    zone: str
    now: datetime  # the window's end, in the zone
    days: tuple[date, ...]
    months: tuple[Month, ...]
    routines: tuple[RoutineRow, ...]  # the day routines, then the evening ones
    nights: tuple[Night, ...]
    night_counts: stats.NightCounts  # the nights that are over
    comparisons: tuple[Comparison, ...]
    practices: tuple[Practice, ...]
    min_nights: int = MIN_NIGHTS

    @property
    def nights_ahead(self) -> int:
        return sum(n.status == "ahead" for n in self.nights)


def build(window: stats.Window, routines: Iterable[Routine], catalog: Catalog,
          evidence: EvidenceSource, facts: Facts) -> ReportModel:
    zone, now = window.zone, window.end
    first, last = window.first_day, window.today
    days = tuple(first + timedelta(days=n) for n in range((last - first).days + 1))
    enabled = [r for r in routines if r.enabled]
    evening = [r for r in enabled if catalog.is_evening(r)]
    # The last day is still going on unless the window ends with it (a past period).
    ongoing = last if (now + MICROSECOND).astimezone(zone).date() == last else None
    counted: dict[str, dict[date, dict[str, int]]] = defaultdict(dict)
    for c in facts.days:
        counted[c.routine][c.day] = c._asdict()
    rows = tuple(_row(r, r in evening, days, ongoing, counted[r.id])
                 for r in [*(r for r in enabled if r not in evening), *evening])
    relations = stats.cramp_relation(facts.tally, [r.id for r in evening], now=now,
                                     zone=zone, days=len(days), min_nights=MIN_NIGHTS)
    titles = {r.id: r.title for r in evening}
    return ReportModel(
        first=first, last=last, zone=str(zone), now=now.astimezone(zone), days=days,
        months=_months(days), routines=rows,
        nights=_nights(days, window, facts),
        night_counts=stats.night_counts(facts.tally, now=now, zone=zone, days=len(days)),
        comparisons=tuple(Comparison(titles[c.routine], c) for c in relations),
        practices=tuple(_practice(r, catalog, evidence) for r in enabled))


def day_status(counts: dict[str, int]) -> str:
    """The furthest a day's reminders got (module docstring), or "none"."""
    got = {"done": counts.get("done", 0), "skipped": counts.get("skipped", 0),
           "shown": counts.get("delivered", 0), "missed": counts.get("missed", 0),
           "held": counts.get("held", 0)}
    return next((status for status in PRECEDENCE if got[status]), "none")


def day_words(day: date) -> str:
    """"Mon 2 Mar 2026", in the user's language."""
    short = _(SHORT_MONTHS[day.month - 1])
    return _("{weekday} {day} {month} {year}").format(
        weekday=weekday(day.weekday()), day=day.day, year=day.year,
        # "May" is both the full and the short name: the short one has its own id
        month="May" if short == "May (short)" else short)


def month_words(day: date) -> str:
    """"March 2026", in the user's language."""
    return _("{month} {year}").format(month=_(MONTHS[day.month - 1]), year=day.year)


def short_weekday(day: date) -> str:
    """The weekday over a calendar column: two letters in English ("Mo"), the day's own
    character in Chinese."""
    return _("{weekday:.2}").format(weekday=weekday(day.weekday()))


def _row(routine: Routine, evening: bool, days: tuple[date, ...], ongoing: date | None,
         by_day: dict[date, dict[str, int]]) -> RoutineRow:
    cells = []
    for day in days:
        counts = by_day.get(day, {})
        status = day_status(counts)
        if status == "none" and day == ongoing:
            status = "ahead"
        cells.append(Cell(day, status, _cell_title(day, status, counts)))
    return RoutineRow(routine.id, routine.title, evening, tuple(cells))


def _cell_title(day: date, status: str, counts: dict[str, int]) -> str:
    parts = [_(words).format(n=counts[kind]) for kind, words in _KIND_WORDS
             if counts.get(kind)]
    return f"{day_words(day)}: {DAY_LOOK[status].label}" + \
        (f" ({_(', ').join(parts)})" if parts else "")


def _nights(days: tuple[date, ...], window: stats.Window, facts: Facts) -> tuple[Night, ...]:
    known = dict(facts.tally.nights)  # resolved by stats.cramp_log
    standing = stats.standing_by_night(facts.cramp_log, window.zone)
    nights = []
    for night in days:
        when = day_words(night)
        if night > window.last_night:
            nights.append(Night(night, "ahead", None, None, _(
                "Night of {day}: not over within the period (it ends at noon the next "
                "day)").format(day=when)))
        elif night not in known:
            nights.append(Night(night, "unknown", None, None,
                                _("Night of {day}: unknown (nothing logged)").format(day=when)))
        elif not known[night]:
            nights.append(Night(night, "quiet", None, None,
                                _("Night of {day}: no cramp").format(day=when)))
        else:
            cramps, severity = _cramps(standing.get(night, []))
            worst = (_(", worst severity {n} of 5").format(n=severity)
                     if severity is not None else "")
            nights.append(Night(night, "cramp", cramps, severity,
                                _("Night of {day}: cramp ({cramps}{worst})").format(
                                    day=when, worst=worst,
                                    cramps=_("several") if cramps == "several" else cramps)))
    return tuple(nights)


def _cramps(events: Iterable[Event]) -> tuple[str, int | None]:
    """How many cramps stand for a night, and the worst severity logged for them."""
    total, several, severities = 0, False, []
    for e in events:
        if e.kind != "cramp":
            continue
        count = e.detail.get("count", 1)
        if isinstance(count, int) and count > 0:
            total += count
        else:
            several = True
        severity = e.detail.get("severity")
        if isinstance(severity, int):
            severities.append(severity)
    words = "several" if several else str(max(total, 1))
    return words, max(severities, default=None)


def _months(days: tuple[date, ...]) -> tuple[Month, ...]:
    months: list[Month] = []
    for i, day in enumerate(days):
        if not months or day.day == 1 or i == 0:
            if months:
                months[-1] = Month(months[-1].label, months[-1].start, i)
            months.append(Month(month_words(day), i, len(days)))
    return tuple(months)


def _practice(routine: Routine, catalog: Catalog, evidence: EvidenceSource) -> Practice:
    notes = []
    for step_id in routine.seed:
        step = catalog.get(step_id)
        if step is None:  # the loader refuses such a routine; kept safe all the same
            continue
        notes.append(StepNote(step.id, step.summary, step.quote, step.source,
                              evidence.for_step(step.id)))
    return Practice(routine.id, routine.title, tuple(notes))
