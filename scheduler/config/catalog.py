"""The catalog of documented prevention steps (seeds/catalog.toml) that routines cite."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from scheduler.config import tomlfile
from scheduler.config.routine import Routine, Strict

#: Catalog "when" values that make a routine part of the evening routine: the one `stats`
#: and the report set against the nights' cramps.
EVENING_STEPS = ("bedtime", "night")


class Step(Strict):
    id: str
    summary: str = Field(min_length=1)
    audience: Literal["adults", "children", "everyone"]
    when: Literal["bedtime", "night", "sitting-or-standing-work", "before-exercise",
                  "after-heavy-sweating", "meals", "daily", "during-treatment", "any-time"]
    kind: Literal["routine", "advice-only"]
    source: str
    quote: str = Field(min_length=1)
    reason: str = ""

    @model_validator(mode="after")
    def _advice_has_reason(self) -> Step:
        if self.kind == "advice-only" and not self.reason:
            raise ValueError("an advice-only step says why it is not a reminder: add reason")
        return self


class Catalog(Strict):
    schema_version: Literal[1]
    step: tuple[Step, ...]

    def get(self, step_id: str) -> Step | None:
        return next((s for s in self.step if s.id == step_id), None)

    def is_evening(self, routine: Routine) -> bool:
        """Whether the routine puts an evening or night step of the catalog into practice."""
        steps = [self.get(s) for s in routine.seed]
        return any(step is not None and step.when in EVENING_STEPS for step in steps)

    @property
    def routine_ids(self) -> list[str]:
        return [s.id for s in self.step if s.kind == "routine"]


def load_catalog(path: Path) -> Catalog:
    return tomlfile.load_model(path, Catalog)
