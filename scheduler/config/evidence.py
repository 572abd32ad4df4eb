"""What published studies found about the catalog's steps (seeds/evidence.toml), for the
report: every routine step says how well it has been tested, including "not at all"."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from scheduler.config import tomlfile
from scheduler.config.catalog import Catalog
from scheduler.config.routine import Strict


class Study(Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    year: int = Field(ge=1900, le=2100)
    design: str = Field(min_length=1)
    #: in our own words, the people, what was done and what came of it
    finding: str = Field(min_length=1)
    citation: str = Field(min_length=1)


class StepEntry(Strict):
    id: str
    #: one or two sentences: how well the step is supported, honestly
    summary: str = Field(min_length=1)
    studies: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepEvidence:
    step: str
    summary: str
    studies: tuple[Study, ...]


class Evidence(Strict):
    schema_version: Literal[1]
    study: tuple[Study, ...] = ()
    step: tuple[StepEntry, ...] = ()

    @model_validator(mode="after")
    def _ids_resolve(self) -> Evidence:
        known = [s.id for s in self.study]
        if len(set(known)) != len(known):
            raise ValueError("two studies share an id")
        steps = [s.id for s in self.step]
        if len(set(steps)) != len(steps):
            raise ValueError("two entries describe the same step")
        for entry in self.step:
            unknown = [s for s in entry.studies if s not in known]
            if unknown:
                raise ValueError(f"step {entry.id}: no [[study]] with id {', '.join(unknown)}")
        return self

    def for_step(self, step_id: str) -> StepEvidence | None:
        entry = next((s for s in self.step if s.id == step_id), None)
        if entry is None:
            return None
        studies = {s.id: s for s in self.study}
        return StepEvidence(entry.id, entry.summary,
                            tuple(studies[s] for s in entry.studies))

    def problems(self, catalog: Catalog) -> list[str]:
        """Entries for steps the catalog does not have, and routine steps without one."""
        known = {s.id for s in catalog.step}
        described = {s.id for s in self.step}
        return ([f"step {s}: not in the catalog" for s in sorted(described - known)]
                + [f"step {s}: a routine step with no evidence entry (say so even when no "
                   "study tested it)" for s in catalog.routine_ids if s not in described])


def load_evidence(path: Path) -> Evidence:
    return tomlfile.load_model(path, Evidence)
