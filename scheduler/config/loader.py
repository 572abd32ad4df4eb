"""Find, parse and merge routine files; every problem in every file reported in one go.

The active set is the shipped routines with the user's folder laid over them by id (a user
file with the same id replaces the shipped one; ``enabled = false`` turns one off).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from scheduler.config import tomlfile
from scheduler.config.catalog import Catalog
from scheduler.config.routine import Routine
from scheduler.config.settings import Settings
from scheduler.errors import CrampguardError
from scheduler.timing.grammar import interval_problem


def load_file(path: Path, settings: Settings, catalog: Catalog) -> Routine:
    """One routine file, checked against the schema, the catalog and the anchors."""
    data, text = tomlfile.read(path)
    data.setdefault("id", path.stem)
    try:
        routine = Routine.model_validate(data)
    except ValidationError as exc:
        raise CrampguardError(tomlfile.validation_problems(path, text, exc, Routine)) from None
    problems = _cross_problems(routine, settings, catalog)
    if problems:
        lines = tomlfile.key_lines(text)
        raise CrampguardError(
            f"{_where(path, lines, loc)}: {'.'.join(loc)}: {message}" for loc, message in problems
        )
    return routine


def _cross_problems(routine: Routine, settings: Settings,
                    catalog: Catalog) -> list[tuple[tuple[str, ...], str]]:
    problems = []
    for step_id in routine.seed:
        step = catalog.get(step_id)
        if step is None:
            close = tomlfile.close_match(step_id, catalog.routine_ids)
            hint = f'did you mean "{close[0]}"?' if close else \
                "see `crampguard list` or seeds/catalog.toml for the step ids"
            problems.append((("seed",), f"unknown catalog step (got {step_id!r}); {hint}"))
        elif step.kind != "routine":
            problems.append((("seed",), f"step {step_id!r} is advice only, not a routine: "
                                        f"{step.reason}"))
    schedule = routine.schedule
    if schedule.every is not None and schedule.between == "work" and (
            interval := interval_problem(schedule.every, settings.anchors.work.between,
                                         "the work window", "anchors.work.between")):
        problems.append((("schedule", "every"), interval))
    return problems


def _where(path: Path, lines: Mapping[tuple[str, ...], int], loc: tuple[str, ...]) -> str:
    line = tomlfile.line_of(lines, loc)
    return f"{path}:{line}" if line else str(path)


def routine_files(folder: Path) -> list[Path]:
    """The ``*.toml`` files of a folder in name order; editors' hidden temp files skipped."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.toml") if not p.name.startswith((".", "#")))


@dataclass
class RoutineSet:
    """The active routines by id, where each came from, and every problem found."""

    routines: dict[str, Routine] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: every file read, with its routine, or None when it is broken
    files: dict[Path, Routine | None] = field(default_factory=dict)

    @property
    def enabled(self) -> list[Routine]:
        return [r for r in self.routines.values() if r.enabled]


def load_set(folders: Iterable[Path], settings: Settings, catalog: Catalog, *,
             last_good: Mapping[Path, Routine] | None = None) -> RoutineSet:
    """Load every folder, later folders overriding earlier ones by id.

    A broken file keeps its ``last_good`` version where there is one (the running daemon),
    otherwise it is left out; its problems are reported either way.
    """
    result = RoutineSet()
    for folder in folders:
        in_folder: dict[str, Path] = {}
        for path in routine_files(folder):
            try:
                routine: Routine | None = load_file(path, settings, catalog)
            except CrampguardError as exc:
                result.problems.extend(exc.problems)
                routine = None
            result.files[path] = routine
            if routine is None and last_good is not None:
                routine = last_good.get(path)
            if routine is None:
                continue
            if routine.id in in_folder:
                result.problems.append(
                    f"{path}: id: {routine.id!r} is also the id of {in_folder[routine.id]}; "
                    f"ids must be unique, rename one")
                continue
            in_folder[routine.id] = path
            result.routines[routine.id] = routine
            result.sources[routine.id] = path
    return result


def require_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise CrampguardError(f"{folder}: no such routines folder")
