"""Printing command results, as text for people or JSON for scripts. Nothing else prints."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from scheduler.commands import CheckReport, InitReport, Listing, NextReport, NotifyTestReport


def emit(result: Any, *, as_json: bool = False, out: TextIO | None = None,
         err: TextIO | None = None) -> None:
    out = out or sys.stdout
    err = err or sys.stderr
    for warning in getattr(result, "warnings", []):
        print(f"warning: {warning} (left out; `crampguard check` lists every problem)",
              file=err)
    text = json.dumps(to_json(result), indent=2) if as_json else to_text(result)
    if text:
        print(text, file=out)


def to_json(result: Any) -> Any:
    if isinstance(result, NextReport):
        return [
            {"routine": u.routine.id, "title": u.routine.title, "message": u.routine.message,
             "at": u.local.isoformat(), "held": "quiet-hours" if u.held else None}
            for u in result.items
        ]
    if isinstance(result, Listing):
        return [
            {"id": r.id, "enabled": r.enabled, "title": r.title, "schedule": r.schedule,
             "seed": list(r.seed), "source": str(r.source)}
            for r in result.rows
        ]
    if isinstance(result, CheckReport):
        return {"ok": True, "files": result.files, "routines": result.routines,
                "enabled": result.enabled,
                "config": str(result.config) if result.config else None}
    if isinstance(result, InitReport):
        return {"created": [str(p) for p in result.created],
                "kept": [str(p) for p in result.kept]}
    if isinstance(result, NotifyTestReport):
        return {"backend": result.backend, "id": result.id,
                "actions_shown": result.actions_shown, "chain": list(result.chain)}
    raise TypeError(f"no JSON form for {type(result).__name__}")


def to_text(result: Any) -> str:
    if isinstance(result, NextReport):
        if not result.items:
            return f"no reminders ahead ({result.zone})"
        return "\n".join(
            f"{u.local:%a %Y-%m-%d %H:%M:%S %z}  {u.routine.id:<22} {u.routine.title}"
            + ("  [held back: quiet hours]" if u.held else "")
            for u in result.items
        )
    if isinstance(result, Listing):
        lines = []
        for r in result.rows:
            state = "on " if r.enabled else "off"
            lines.append(f"{r.id:<22} {state}  {r.schedule}")
            lines.append(f"{'':<22}      {r.title} — seed: {', '.join(r.seed) or '(none)'}")
        return "\n".join(lines) or "no routines"
    if isinstance(result, CheckReport):
        config = f"; settings from {result.config}" if result.config else ""
        return (f"ok: {result.files} file(s), {result.routines} routine(s), "
                f"{result.enabled} enabled{config}")
    if isinstance(result, InitReport):
        lines = [f"created {p}" for p in result.created]
        lines += [f"kept    {p} (exists; not overwritten)" for p in result.kept]
        return "\n".join(lines)
    if isinstance(result, NotifyTestReport):
        shown = f" (notification id {result.id})" if result.id is not None else ""
        return (f"delivered via {result.backend}{shown}; "
                f"notifier chain: {' > '.join(result.chain)}")
    raise TypeError(f"no text form for {type(result).__name__}")
