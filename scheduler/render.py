"""Printing command results, as text for people or JSON for scripts. Nothing else prints."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime
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
    from scheduler.live import LiveReply
    from scheduler.records import CrampReport, HistoryReport, StatsReport

    if isinstance(result, LiveReply):
        return result.data
    if isinstance(result, HistoryReport):
        return [_event_json(e, result) for e in result.events]
    if isinstance(result, StatsReport):
        return {"days": result.days, "cramps": result.cramp_count,
                "routines": [dataclasses.asdict(r) for r in result.routines],
                "evening_routines_and_cramps": [dataclasses.asdict(c) for c in result.cramps]}
    if isinstance(result, CrampReport):
        return {"id": result.id, "when": result.when.astimezone(result.zone).isoformat(),
                "leg": result.leg, "severity": result.severity, "note": result.note}
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


def _event_json(event: Any, report: Any) -> dict[str, Any]:
    zone = report.zone
    return {"at": event.at.astimezone(zone).isoformat(), "kind": event.kind,
            "routine": event.routine,
            "due": event.due.astimezone(zone).isoformat() if event.due else None,
            "backend": event.backend, "detail": event.detail}


def _clock(text: str | None) -> str:
    """An ISO instant from the daemon, shown as the wall time it carries."""
    return f"{datetime.fromisoformat(text):%a %Y-%m-%d %H:%M:%S %z}" if text else "-"


def to_text(result: Any) -> str:
    from scheduler.live import LiveReply
    from scheduler.records import CrampReport, HistoryReport, StatsReport

    if isinstance(result, LiveReply):
        return _live_text(result.command, result.data)
    if isinstance(result, HistoryReport):
        return "\n".join(_event_text(e, result.zone) for e in result.events) or \
            "nothing in the journal for that period"
    if isinstance(result, StatsReport):
        return _stats_text(result)
    if isinstance(result, CrampReport):
        parts = [p for p in (f"{result.leg} leg" if result.leg else "",
                             f"severity {result.severity}" if result.severity else "",
                             result.note or "") if p]
        extra = f" ({', '.join(parts)})" if parts else ""
        return f"logged a cramp at {result.when.astimezone(result.zone):%a %Y-%m-%d %H:%M}" \
               f"{extra}"
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


def _live_text(command: str, data: dict[str, Any]) -> str:
    if command == "status":
        lines = [f"crampguard is running (pid {data['pid']}) since "
                 f"{_clock(data['running_since'])}, zone {data['zone']}, notifiers "
                 f"{' > '.join(data['notifiers'])}"]
        lines.append(f"paused until {_clock(data['paused_until'])}" if data["paused_until"]
                     else "not paused")
        last = data.get("last_delivery")
        lines.append(f"last delivery: {last['routine']} at {_clock(last['at'])} via "
                     f"{last['backend']}" if last else "last delivery: none yet")
        lines.append("next:")
        lines += [f"  {_clock(r['next'])}  {r['id']:<22} {r['title']}"
                  for r in data["routines"]] or ["  nothing scheduled"]
        lines += [f"problem: {p}" for p in data.get("problems", [])]
        return "\n".join(lines)
    if command == "pause":
        return f"paused until {_clock(data['paused_until'])}"
    if command == "resume":
        return "resumed" if data.get("was_paused_until") else "was not paused"
    if command == "snooze":
        return f"snoozed {data['routine']} until {_clock(data['until'])}"
    if command == "skip":
        following = f"; next {_clock(data['next'])}" if data.get("next") else "; none after it"
        return f"skipped {data['routine']} due {_clock(data['skipped'])}{following}"
    if command == "done":
        state = "was already recorded as done" if data.get("already") else "recorded as done"
        return f"{data['routine']} (due {_clock(data['due'])}) {state}"
    if command == "trigger":
        return f"delivered {data['routine']} now"
    if command == "reload":
        problems = "".join(f"\nproblem: {p}" for p in data.get("problems", []))
        return f"reloaded: {data['routines']} routine(s) enabled{problems}"
    return json.dumps(data)


def _event_text(event: Any, zone: Any) -> str:
    detail = dict(event.detail or {})
    bits = []
    if event.due is not None:
        bits.append(f"due {event.due.astimezone(zone):%a %H:%M:%S}")
    if event.backend:
        bits.append(f"via {event.backend}")
    bits += [f"{k} {v}" for k, v in detail.items() if k != "problems"]
    bits += detail.get("problems", [])
    return (f"{event.at.astimezone(zone):%a %Y-%m-%d %H:%M:%S}  {event.kind:<12} "
            f"{event.routine or '':<22} {'; '.join(str(b) for b in bits)}").rstrip()


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _stats_text(report: Any) -> str:
    lines = [f"the last {report.days} day(s)",
             f"{'routine':<22} {'due':>5} {'sent':>5} {'done':>5} {'snooze':>6} "
             f"{'skip':>5} {'missed':>6} {'kept':>6} {'streak':>6}"]
    for r in report.routines:
        lines.append(f"{r.routine:<22} {r.due:>5} {r.delivered:>5} {r.done:>5} "
                     f"{r.snoozed:>6} {r.skipped:>5} {r.missed:>6} {_pct(r.adherence):>6} "
                     f"{r.streak:>6}")
    if not report.routines:
        lines.append("(nothing in the journal yet)")
    lines.append(f"cramps logged: {report.cramp_count}")
    for c in report.cramps:
        lines.append(
            f"{c.routine}: nights done {c.nights_done} (cramps on {c.cramp_nights_done}, "
            f"{_pct(c.rate_done)}); nights not done {c.nights_not_done} (cramps on "
            f"{c.cramp_nights_not_done}, {_pct(c.rate_not_done)}): {c.verdict}")
    return "\n".join(lines)
