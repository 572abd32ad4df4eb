"""Routine files as models: what a valid routine is, checked when it is built.

Field types parse the small time grammar (``timespec``) into values, so everything after
loading works with times and durations, never with strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, field_validator, model_validator

from scheduler.config import defaults
from scheduler.i18n import N_, _
from scheduler.timing import grammar
from scheduler.timing.cron import Cron, parse_cron
from scheduler.timing.grammar import AnchorRef, Window

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_NOT_IN_ID = re.compile(r"[^a-z0-9_-]+")
#: What the user reports happening (`crampguard log workout`), which a routine may follow
#: (``after = "workout + 1h"``); journal.events.USER_EVENTS names the same.
EVENTS = ("workout",)
#: A follow-up waits at most this long: past a day its cause is yesterday's news.
FOLLOW_UP_MAX = timedelta(days=1)
#: ``[notify] repeat``: not more often than this, nor more times than that.
REPEAT_EVERY_MIN = timedelta(minutes=1)
REPEAT_TIMES = (1, 20)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(_("{what} must be a string in quotes").format(what=what))
    return value


def _clock(value: Any) -> time:
    if isinstance(value, time):  # TOML's own unquoted local time, 21:30:00
        return value
    return grammar.parse_clock(_text(value, "a time"))


def _duration(value: Any) -> timedelta:
    return grammar.parse_duration(_text(value, "a duration"))


def _duration_or_zero(value: Any) -> timedelta:
    return grammar.parse_duration(_text(value, "a duration"), allow_zero=True)


def parse_days_value(value: Any) -> frozenset[int]:
    if isinstance(value, frozenset):  # already parsed (models built in code)
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return grammar.parse_days(value)
    return grammar.parse_days(_text(value, "days"))


def _at(value: Any) -> tuple[time | AnchorRef, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValueError(_('"at" needs at least one time, e.g. "21:30" or "bedtime - 45m"'))
    return tuple(v if isinstance(v, time) else grammar.parse_at(_text(v, "a time")) for v in items)


def parse_window_value(value: Any) -> Window:
    if isinstance(value, Window):  # already parsed (defaults, models built in code)
        return value
    return grammar.parse_window(_text(value, "a window"))


def _window_or_anchor(value: Any) -> Window | Literal["work"]:
    if isinstance(value, str) and value.strip().lower() == "work":
        return "work"
    return parse_window_value(value)


def _cron(value: Any) -> Cron:
    return parse_cron(_text(value, "a cron expression"))


Clock = Annotated[time, PlainValidator(_clock)]
Duration = Annotated[timedelta, PlainValidator(_duration)]
Days = Annotated[frozenset[int], PlainValidator(parse_days_value)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_ACTION_RE = re.compile(r"^(done|skip|snooze(?:\s+(.+))?|cramps\s+(\S+))$")
#: The morning check-in's answers about last night, as buttons: ``"cramps none"`` is the
#: key "cramps:none" labelled "No cramps". journal.events.NIGHT_ANSWERS names the same.
CRAMP_ANSWERS = {"none": N_("No cramps"), "one": N_("One cramp"), "several": N_("Several")}
#: The other buttons' labels (message ids: ``Action.shown`` translates them).
BUTTONS = {"done": N_("Done"), "skip": N_("Skip")}
CRAMPS_KEY = "cramps:"


class Action(Strict):
    """A button on the notification: ``"done"``, ``"skip"``, ``"snooze 10m"``, or an
    answer about last night, ``"cramps none"`` / ``"cramps one"`` / ``"cramps several"``."""

    key: str
    #: English, as the journal and the console know it; ``shown()`` is the user's language
    label: str

    def shown(self) -> str:
        """The label in the user's language."""
        if self.key.startswith("snooze:"):
            return _snooze_label(grammar.parse_duration(self.key.removeprefix("snooze:")),
                                 translated=True)
        return _(self.label)


def _action(value: Any) -> Action:
    m = _ACTION_RE.match(_text(value, "an action").strip().lower())
    if not m:
        raise ValueError(_('unknown action; use "done", "skip" or "snooze 10m", or for a '
                           'check-in "cramps none", "cramps one" or "cramps several"'))
    if m[1].startswith("snooze"):
        wait = grammar.parse_duration(m[2]) if m[2] else defaults.SNOOZE
        if wait > defaults.SNOOZE_MAX:
            # the same limit as `crampguard snooze`: by then the next firing has come
            raise ValueError(_('a snooze is at most {most} (got {snooze}); e.g. '
                               '"snooze 10m"').format(
                most=grammar.format_duration(defaults.SNOOZE_MAX), snooze=m[2].strip()))
        return snooze_action(wait)
    if m[3] is not None:
        if m[3] not in CRAMP_ANSWERS:
            raise ValueError(_('unknown answer {answer!r}; use "cramps none", "cramps one" or '
                               '"cramps several"').format(answer=m[3]))
        return Action(key=CRAMPS_KEY + m[3], label=CRAMP_ANSWERS[m[3]])
    return Action(key=m[1], label=BUTTONS[m[1]])


def night_answer(key: str) -> str | None:
    """The answer a check-in button gives ("none", "one", "several"), None for another."""
    answer = key.removeprefix(CRAMPS_KEY)
    return answer if key.startswith(CRAMPS_KEY) and answer in CRAMP_ANSWERS else None


def snooze_action(wait: timedelta) -> Action:
    return Action(key=f"snooze:{grammar.format_duration(wait)}",
                  label=_snooze_label(wait, translated=False))


def _snooze_label(wait: timedelta, *, translated: bool) -> str:
    """"Snooze 10 min", or "Snooze 1m30s" for a wait not in whole minutes."""
    minutes = int(wait.total_seconds() // 60)
    whole = wait.total_seconds() % 60 == 0
    text = N_("Snooze {minutes} min") if whole else N_("Snooze {duration}")
    return (_(text) if translated else text).format(
        minutes=minutes, duration=grammar.format_duration(wait))


@dataclass(frozen=True)
class FollowUp:
    """``after = "foot-soak done + 20m"``: fire ``wait`` after routine ``source`` is
    answered done (kind "done"); ``after = "workout + 1h"``: ``wait`` after the user reports
    the event ``source`` (kind "event", one of ``EVENTS``)."""

    source: str
    kind: Literal["done", "event"]
    wait: timedelta

    def __str__(self) -> str:
        cause = f"{self.source} done" if self.kind == "done" else self.source
        return f"{cause} + {grammar.format_duration(self.wait)}" if self.wait else cause


_AFTER_RE = re.compile(r"^([a-z0-9][a-z0-9_-]*)(\s+done)?\s*(?:([+-])\s*(.*))?$")
_AFTER_HINT = N_('write "foot-soak done + 20m" (after that routine is answered done) or '
               f'"workout + 1h" (after you report it: crampguard log workout); events: '
               f'{", ".join(EVENTS)}')


def _after(value: Any) -> FollowUp:
    if isinstance(value, FollowUp):  # models built in code
        return value
    m = _AFTER_RE.match(_text(value, "a follow-up").strip().lower())
    if not m:
        raise ValueError(_("not a follow-up; {hint}").format(hint=_(_AFTER_HINT)))
    source, done, sign, wait_text = m[1], m[2], m[3], m[4]
    if not done and source not in EVENTS:
        raise ValueError(_('{source!r} is not an event (events: {events}); to follow a '
                           'routine, say "{source} done + 20m"').format(
                               source=source, events=', '.join(EVENTS)))
    if sign == "-":
        raise ValueError(_('a follow-up comes after its cause: use +, e.g. "{source}{value} '
                           '+ 20m"').format(source=source, value=" done" if done else ""))
    wait = grammar.parse_duration(wait_text, allow_zero=True) if sign else timedelta()
    if wait > FOLLOW_UP_MAX:
        raise ValueError(_('a follow-up waits at most {follow_up_max}; for later, give the '
                           'routine its own time with "at"').format(
                               follow_up_max=grammar.format_duration(FOLLOW_UP_MAX)))
    return FollowUp(source, "done" if done else "event", wait)


class Schedule(Strict):
    at: Annotated[tuple[time | AnchorRef, ...], PlainValidator(_at)] | None = None
    days: Days | None = None
    every: Duration | None = None
    between: Annotated[Window | Literal["work"], PlainValidator(_window_or_anchor)] | None = None
    cron: Annotated[Cron, PlainValidator(_cron)] | None = None
    catch_up: Annotated[timedelta, PlainValidator(_duration_or_zero)] = defaults.CATCH_UP
    quiet_hours: Literal["respect", "ignore"] = "respect"
    #: a firing while the user is away: "skip" it (a break they are already taking) or
    #: "hold" it until they are back; default: skip for an interval, hold otherwise
    when_away: Literal["skip", "hold"] | None = None
    #: away this long counts as the break itself: an interval starts again on return
    away_resets: Duration = defaults.AWAY_RESETS
    #: a follow-up: alone (the routine fires only then), or with ``at`` (its clock time
    #: stays for days without the follow-up)
    after: Annotated[FollowUp, PlainValidator(_after)] | None = None

    @property
    def on_clock(self) -> bool:
        """Whether it has clock times (``at``, ``every``, ``cron``); a routine with only
        ``after`` fires after its cause and never by the clock."""
        return self.at is not None or self.every is not None or self.cron is not None

    @property
    def away(self) -> Literal["skip", "hold"]:
        """What a firing does while the user is away (``when_away`` or its default)."""
        if self.when_away is not None:
            return self.when_away
        return "skip" if self.every is not None else "hold"

    @model_validator(mode="after")
    def _one_kind(self) -> Schedule:
        kinds = [k for k in ("at", "every", "cron") if getattr(self, k) is not None]
        if len(kinds) > 1 or not kinds and self.after is None:
            raise ValueError(
                'give exactly one of "at" (times), "every" (with "between") or "cron", or '
                '"after" (a follow-up) alone or with "at"'
                + (f"; found {', '.join(kinds)}" if kinds else "")
            )
        if self.after is not None and kinds and kinds != ["at"]:
            raise ValueError(_('"after" goes alone or with "at", not with "{kinds}"').format(
                kinds=kinds[0]))
        if self.after is not None and not kinds and self.days is not None:
            raise ValueError(_('"days" goes with "at": a follow-up alone fires on any day '
                               'its cause happens; remove "days"'))
        if self.every is not None and self.between is None:
            raise ValueError(_('"every" needs a window: add between = "work" or "09:00-17:30"'))
        if self.between is not None and self.every is None:
            raise ValueError(_('"between" goes with "every", e.g. every = "50m"'))
        if self.cron is not None and self.days is not None:
            raise ValueError(_('"cron" has its own day fields; remove "days"'))
        if isinstance(self.between, Window) and self.every is not None and (
                problem := grammar.interval_problem(self.every, self.between, "its window",
                                                    '"between"')):
            raise ValueError(problem)
        return self


def _repeat_every(value: Any) -> timedelta:
    every = value if isinstance(value, timedelta) else _duration(value)
    if every < REPEAT_EVERY_MIN:
        raise ValueError(_('repeat at most once a minute: give every = "1m" or more, e.g. '
                           '"10m"'))
    return every


def _repeat_times(value: Any) -> int:
    low, high = REPEAT_TIMES
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(_("give a whole number from {low} to {high}, without quotes, e.g. "
                           "times = 3").format(low=low, high=high))
    return value


class Repeat(Strict):
    """``repeat = { every = "10m", times = 3 }``: while a reminder is unanswered, show it
    again every ``every``, at most ``times`` more times."""

    every: Annotated[timedelta, PlainValidator(_repeat_every)]
    times: Annotated[int, PlainValidator(_repeat_times)]


class Notify(Strict):
    urgency: Literal["low", "normal", "critical"] = "normal"
    timeout: Annotated[timedelta, PlainValidator(_duration_or_zero)] | None = None
    actions: tuple[Annotated[Action, PlainValidator(_action)], ...] = (
        Action(key="done", label=BUTTONS["done"]), snooze_action(defaults.SNOOZE),
    )
    icon: str = ""
    repeat: Repeat | None = None
    #: whether the reminder goes to the ``[reach]`` channels: "away" when the user is away
    #: or locked at its instant, or still has not answered after ``reach_after``; "always"
    #: to the channels as well as the desktop; "never" the desktop only
    reach: Literal["away", "always", "never"] = "never"
    #: with reach = "away": unanswered on the desktop this long → the channels too
    reach_after: Annotated[timedelta, PlainValidator(_duration)] | None = None

    @field_validator("repeat", mode="before")
    @classmethod
    def _repeat_table(cls, value: Any) -> Any:
        if isinstance(value, Repeat) or value is None:
            return value
        if not isinstance(value, dict):
            raise ValueError(_('give a table: repeat = { every = "10m", times = 3 }'))
        unknown = [k for k in value if k not in Repeat.model_fields]
        if unknown:
            raise ValueError(_("unknown key {unknown!r}; valid keys here: {model_fields}").format(
                unknown=unknown[0], model_fields=', '.join(Repeat.model_fields)))
        return value


def slugify(name: str) -> str:
    """The valid id nearest to ``name``: "Foot Soak" -> "foot-soak", "Fußbad!" ->
    "fussbad" (accents dropped, other characters a hyphen)."""
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name.casefold()).encode("ascii", "ignore")
    slug = _NOT_IN_ID.sub("-", ascii_name.decode()).strip("-_")[:64].rstrip("-_")
    return slug or "my-routine"


class Routine(Strict):
    schema_version: Literal[1]
    id: str
    title: str = Field(min_length=1, max_length=80)
    message: str = Field(min_length=1, max_length=400)
    enabled: bool = True
    seed: tuple[str, ...] = ()
    schedule: Schedule
    notify: Notify = Notify()
    #: a Done on this reminder also reports that event (the warm-up's Done: a workout
    #: starts), which routines with ``after = "workout + 1h"`` follow
    marks: Literal["workout"] | None = None
    #: how `crampguard calendar` writes its firings: an event with an alarm, a to-do with
    #: an alarm (completing it on the phone answers the reminder done), or nothing
    calendar: Literal["event", "todo", "off"] = "event"

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError(_('an id is lowercase letters, digits and hyphens, e.g. '
                               '"foot-soak"'))
        return value

    @field_validator("seed", mode="before")
    @classmethod
    def _seed(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value
