"""Routine files as models: what a valid routine is, checked when it is built.

Field types parse the small time grammar (``timespec``) into values, so everything after
loading works with times and durations, never with strings.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, field_validator, model_validator

from scheduler.config import defaults
from scheduler.timing import grammar
from scheduler.timing.cron import Cron, parse_cron
from scheduler.timing.grammar import AnchorRef, Window

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string in quotes")
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
        raise ValueError('"at" needs at least one time, e.g. "21:30" or "bedtime - 45m"')
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


_ACTION_RE = re.compile(r"^(done|skip|snooze(?:\s+(.+))?)$")


class Action(Strict):
    """A button on the notification: ``"done"``, ``"skip"`` or ``"snooze 10m"``."""

    key: str
    label: str


def _action(value: Any) -> Action:
    m = _ACTION_RE.match(_text(value, "an action").strip().lower())
    if not m:
        raise ValueError('unknown action; use "done", "skip" or "snooze 10m"')
    if m[1].startswith("snooze"):
        return snooze_action(grammar.parse_duration(m[2]) if m[2] else defaults.SNOOZE)
    return Action(key=m[1], label=m[1].capitalize())


def snooze_action(wait: timedelta) -> Action:
    minutes = int(wait.total_seconds() // 60)
    label = f"Snooze {minutes} min" if wait.total_seconds() % 60 == 0 else \
        f"Snooze {grammar.format_duration(wait)}"
    return Action(key=f"snooze:{grammar.format_duration(wait)}", label=label)


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

    @property
    def away(self) -> Literal["skip", "hold"]:
        """What a firing does while the user is away (``when_away`` or its default)."""
        if self.when_away is not None:
            return self.when_away
        return "skip" if self.every is not None else "hold"

    @model_validator(mode="after")
    def _one_kind(self) -> Schedule:
        kinds = [k for k in ("at", "every", "cron") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                'give exactly one of "at" (times), "every" (with "between") or "cron"'
                + (f"; found {', '.join(kinds)}" if kinds else "")
            )
        if self.every is not None and self.between is None:
            raise ValueError('"every" needs a window: add between = "work" or "09:00-17:30"')
        if self.between is not None and self.every is None:
            raise ValueError('"between" goes with "every", e.g. every = "50m"')
        if self.cron is not None and self.days is not None:
            raise ValueError('"cron" has its own day fields; remove "days"')
        if isinstance(self.between, Window) and self.every is not None and (
                problem := grammar.interval_problem(self.every, self.between, "its window",
                                                    '"between"')):
            raise ValueError(problem)
        return self


class Notify(Strict):
    urgency: Literal["low", "normal", "critical"] = "normal"
    timeout: Annotated[timedelta, PlainValidator(_duration_or_zero)] | None = None
    actions: tuple[Annotated[Action, PlainValidator(_action)], ...] = (
        Action(key="done", label="Done"), snooze_action(defaults.SNOOZE),
    )
    icon: str = ""


class Routine(Strict):
    schema_version: Literal[1]
    id: str
    title: str = Field(min_length=1, max_length=80)
    message: str = Field(min_length=1, max_length=400)
    enabled: bool = True
    seed: tuple[str, ...] = ()
    schedule: Schedule
    notify: Notify = Notify()

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError("an id is lowercase letters, digits and hyphens, e.g. \"foot-soak\"")
        return value

    @field_validator("seed", mode="before")
    @classmethod
    def _seed(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value
