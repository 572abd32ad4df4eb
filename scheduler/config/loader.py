"""Find, parse and merge routine files; every problem in every file reported in one go.

The active set is the shipped routines with the user's folder laid over them by id. A user
file whose id matches a routine of an earlier folder holds only the keys it changes: its
tables are merged key by key over that routine (``schema_version = 1`` with ``enabled =
false`` turns one off). A file whose id matches nothing earlier is a whole routine.

A follow-up (``after = "foot-soak done + 20m"``) is checked against the whole set, once
every folder is read: it must name a routine of the set; one that does not is left out,
like a broken file. Following a routine that is turned off is no problem: the follow-up
then never comes (a routine with only ``after`` is warned about, planning/warnings.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scheduler.config import tomlfile
from scheduler.config.catalog import Catalog
from scheduler.config.routine import Routine, slugify
from scheduler.config.settings import Settings
from scheduler.errors import CrampguardError
from scheduler.i18n import _
from scheduler.timing.grammar import interval_problem

#: A key path in a routine file (``("schedule", "at")``) and the file that set it.
Origins = dict[tuple[str, ...], Path]
#: The keys that say when a routine fires; a file that picks another kind of schedule
#: (``cron`` over an ``at``, ``at`` over an ``after``) replaces them all rather than
#: mixing two kinds; one that gives a kind the routine has (``at`` over ``at`` and
#: ``after``) changes that key and keeps the others.
_TIMING_KEYS = ("at", "every", "between", "cron", "days", "after")
_KINDS = ("at", "every", "cron", "after")


@dataclass(frozen=True)
class Layer:
    """A routine as files have built it so far: its merged keys and where each came from."""

    data: Mapping[str, Any]
    origins: Origins


def load_file(path: Path, settings: Settings, catalog: Catalog,
              bases: Mapping[str, Layer] | None = None) -> Routine:
    """One routine file, checked against the schema, the catalog and the anchors; laid over
    the routine in ``bases`` with its id when there is one."""
    return _load(path, settings, catalog, bases or {})[0]


def _load(path: Path, settings: Settings, catalog: Catalog,
          bases: Mapping[str, Layer]) -> tuple[Routine, Layer]:
    own, text = tomlfile.read(path)
    written = _leaves(own)  # before the id the file name gives
    named = "id" not in own
    own.setdefault("id", path.stem)
    base = bases.get(own["id"]) if isinstance(own["id"], str) else None
    layer = _over(base, own, dict.fromkeys(written, path)) if base else \
        Layer(own, dict.fromkeys(written, path))
    try:
        routine = Routine.model_validate(layer.data)
    except ValidationError as exc:
        problems = tomlfile.validation_problems(path, text, exc, Routine)
        if named and any(e["loc"] == ("id",) for e in exc.errors()):
            problems = [_id_from_name(path) if p.startswith(f"{path}: id:") else p
                        for p in problems]
        if base is None and bases and any(e["type"] == "missing" for e in exc.errors()):
            problems.append(_no_base_hint(path, own["id"], bases))
        raise CrampguardError(problems) from None
    cross = _cross_problems(routine, settings, catalog)
    if base is not None and "schema_version" not in own:
        cross.insert(0, (("schema_version",), "required in every file, also one that "
                                              "changes a shipped routine; add "
                                              "schema_version = 1"))
    if cross:
        lines = tomlfile.key_lines(text)
        raise CrampguardError(
            f"{_where(path, lines, loc)}: {'.'.join(loc)}: {message}" for loc, message in cross
        )
    return routine, layer


def _over(base: Layer, own: Mapping[str, Any], written: Origins) -> Layer:
    """``own`` laid over ``base``: tables merged key by key, every other value replaced."""
    data = {k: dict(v) if isinstance(v, dict) else v for k, v in base.data.items()}
    origins = dict(base.origins)
    schedule = own.get("schedule")
    if isinstance(schedule, dict) and isinstance(data.get("schedule"), dict):
        kind = next((k for k in _KINDS if k in schedule), None)
        if kind is not None and kind not in data["schedule"]:
            for key in _TIMING_KEYS:
                data["schedule"].pop(key, None)
                origins.pop(("schedule", key), None)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
            origins = {k: v for k, v in origins.items() if k[0] != key}
    origins.update(written)
    return Layer(data, origins)


def _leaves(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path that holds a value (a table's keys, not the table)."""
    found = []
    for key, value in data.items():
        if isinstance(value, dict):
            found += _leaves(value, (*prefix, key))
        else:
            found.append((*prefix, key))
    return found


def _id_from_name(path: Path) -> str:
    """The id a file without an ``id`` key takes from its name is not a valid one."""
    slug = slugify(path.stem)
    return (_('{path}: id: the id comes from the file name {name!r} (no `id` key), and an id '
              'is lowercase letters, digits and hyphens; rename the file to {slug}.toml or '
              'add id = "{slug}"').format(path=path, name=path.name, slug=slug))


def _no_base_hint(path: Path, routine_id: str, bases: Mapping[str, Layer]) -> str:
    close = tomlfile.close_match(routine_id, sorted(bases))
    hint = f'; to change the shipped "{close[0]}", use its id' if close else ""
    return (_("{path}: id: {routine_id!r} matches no shipped routine, so this file must be a "
              "whole routine{hint}").format(path=path, routine_id=routine_id, hint=hint))


def _cross_problems(routine: Routine, settings: Settings,
                    catalog: Catalog) -> list[tuple[tuple[str, ...], str]]:
    problems: list[tuple[tuple[str, ...], str]] = []
    for step_id in routine.seed:
        step = catalog.get(step_id)
        if step is None:
            close = tomlfile.close_match(step_id, catalog.routine_ids)
            hint = f'did you mean "{close[0]}"?' if close else \
                "see `crampguard list` or seeds/catalog.toml for the step ids"
            problems.append((("seed",), _("unknown catalog step (got {step_id!r}); {hint}").format(
                step_id=step_id, hint=hint)))
        elif step.kind != "routine":
            problems.append((("seed",), _("step {step_id!r} is advice only, not a routine: "
                                          "{reason}").format(step_id=step_id, reason=step.reason)))
    schedule = routine.schedule
    if schedule.after is not None and schedule.after.kind == "done" and \
            schedule.after.source == routine.id:
        problems.append((("schedule", "after"), "a routine cannot follow itself; name "
                                                "another routine, or give it a time with "
                                                "\"at\""))
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
    #: the file each routine was last laid down by (a user's override, else the shipped)
    sources: dict[str, Path] = field(default_factory=dict)
    #: per routine, the merged keys and the file each came from
    layers: dict[str, Layer] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: every file read, with its routine, or None when it is broken
    files: dict[Path, Routine | None] = field(default_factory=dict)

    @property
    def enabled(self) -> list[Routine]:
        return [r for r in self.routines.values() if r.enabled]


def load_set(folders: Iterable[Path], settings: Settings, catalog: Catalog, *,
             last_good: Mapping[Path, Routine] | None = None) -> RoutineSet:
    """Load every folder, later folders laid over earlier ones by id.

    A broken file keeps its ``last_good`` version where there is one (the running daemon),
    otherwise it is left out; its problems are reported either way.
    """
    result = RoutineSet()
    for folder in folders:
        bases = dict(result.layers)  # a file is laid over earlier folders, not its own
        in_folder: dict[str, Path] = {}
        for path in routine_files(folder):
            layer: Layer | None = None
            try:
                routine, layer = _load(path, settings, catalog, bases)
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
                    _("{path}: id: {id!r} is also the id of {in_folder}; ids must be unique, "
                      "rename one").format(
                          path=path, id=routine.id, in_folder=in_folder[routine.id]))
                continue
            in_folder[routine.id] = path
            result.routines[routine.id] = routine
            result.sources[routine.id] = path
            if layer is not None:
                result.layers[routine.id] = layer
            else:  # the last good version: where its keys came from is not known now
                result.layers.pop(routine.id, None)
    _check_follow_ups(result)
    return result


def _check_follow_ups(result: RoutineSet) -> None:
    """Leave out each routine that follows a routine the set does not have, with a
    problem naming the file and line that says so, and the ids there are."""
    known = sorted(result.routines)
    for routine in list(result.routines.values()):
        after = routine.schedule.after
        if after is None or after.kind != "done" or after.source in result.routines:
            continue
        layer = result.layers.get(routine.id)
        path = layer.origins.get(("schedule", "after"), result.sources[routine.id]) \
            if layer else result.sources[routine.id]
        close = tomlfile.close_match(after.source, known)
        hint = f'did you mean "{close[0]}"? ' if close else ""
        result.problems.append(
            _("{path}: schedule.after: no routine {source!r} to follow; {hint}known ids: "
              "{known}").format(
                  path=_where(path, _file_lines(path), ('schedule', 'after')), source=after.source,
                  hint=hint, known=', '.join(known)))
        del result.routines[routine.id]
        result.sources.pop(routine.id)
        result.layers.pop(routine.id, None)


def _file_lines(path: Path) -> dict[tuple[str, ...], int]:
    try:
        return tomlfile.key_lines(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError):  # read a moment ago; gone or changed since
        return {}


def require_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise CrampguardError(_("{folder}: no such routines folder").format(folder=folder))
