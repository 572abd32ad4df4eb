"""Printing command results, as text for people or JSON for scripts. Nothing else prints."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime, timedelta
from typing import Any, TextIO

from scheduler.cli import results
from scheduler.control import commands
from scheduler.timing.grammar import format_instant


def emit(result: Any, *, as_json: bool = False, out: TextIO | None = None,
         err: TextIO | None = None) -> None:
    out = out or sys.stdout
    err = err or sys.stderr
    if isinstance(result, results.ExportData):  # the data itself: streamed, not a reply
        _export_data(result, out, err)
        return
    for warning in getattr(result, "warnings", []):
        print(f"warning: {warning} (left out; `crampguard check` lists every problem)",
              file=err)
    text = json.dumps(to_json(result), indent=2) if as_json else to_text(result)
    if text:
        print(text, file=out)
    failure = getattr(result, "failure", None)  # a report that ends in exit 1 says why
    if failure:
        print(failure, file=err)


def emit_error(problems: list[str], *, out: TextIO | None = None) -> None:
    """A failure under --json: ``{"error": the message as stderr shows it, "problems": its
    lines}`` on stdout."""
    print(json.dumps({"error": "\n".join(problems), "problems": problems}, indent=2),
          file=out or sys.stdout)


def to_json(result: Any) -> Any:
    return _form(_JSON, result, "JSON")(result)


def to_text(result: Any) -> str:
    return _form(_TEXT, result, "text")(result)


def _form(table: dict[type, Any], result: Any, what: str) -> Any:
    try:
        return table[type(result)]
    except KeyError:
        raise TypeError(f"no {what} form for {type(result).__name__}") from None


def _event_json(event: Any, zone: Any) -> dict[str, Any]:
    return {"at": event.at.astimezone(zone).isoformat(), "kind": event.kind,
            "routine": event.routine,
            "due": event.due.astimezone(zone).isoformat() if event.due else None,
            "backend": event.backend, "detail": event.detail}


_JSON: dict[type, Any] = {
    **{command.reply: commands.Reply.to_wire for command in commands.COMMANDS.values()},
    results.HistoryReport: lambda r: [_event_json(e, r.zone) for e in r.events],
    results.StatsReport: lambda r: {
        "days": r.days, "cramps": r.cramp_count, "nights": dataclasses.asdict(r.nights),
        "routines": [dataclasses.asdict(x) for x in r.routines],
        "evening_routines_and_cramps": [dataclasses.asdict(c) for c in r.cramps]},
    results.ReportWritten: lambda r: {
        "file": str(r.path), "format": r.format, "first": r.first.isoformat(),
        "last": r.last.isoformat(), "days": r.days, "zone": r.zone, "routines": r.routines,
        "nights": {**dataclasses.asdict(r.nights), "not_over": r.nights_not_over}},
    results.CrampReport: lambda r: {
        "id": r.id, "when": r.when.astimezone(r.zone).isoformat(), "leg": r.leg,
        "severity": r.severity, "note": r.note, "shifted": r.shifted},
    results.NightReport: lambda r: {"id": r.id, "night": r.night.isoformat(),
                                    "cramps": "none"},
    results.EventReport: lambda r: {
        "id": r.id, "event": r.name, "when": r.when.astimezone(r.zone).isoformat(),
        "daemon_told": r.not_told is None, "not_told": r.not_told, "shifted": r.shifted},
    results.NextReport: lambda r: [
        {"routine": u.routine.id, "title": u.routine.title, "message": u.routine.message,
         "at": u.local.isoformat(), "held": "quiet-hours" if u.held else None}
        for u in r.items],
    results.Listing: lambda r: [
        {"id": x.id, "enabled": x.enabled, "title": x.title, "schedule": x.schedule,
         "seed": list(x.seed), "source": str(x.source),
         "sources": {key: str(path) for key, path in x.origins.items()},
         "warnings": _warnings_json([x.never_shown] if x.never_shown else [])}
        for x in r.rows],
    results.CheckReport: lambda r: {
        "ok": True, "files": r.files, "routines": r.routines, "enabled": r.enabled,
        "config": str(r.config) if r.config else None,
        "warnings": _warnings_json(r.never_shown)},
    results.InitReport: lambda r: {"created": [str(p) for p in r.created],
                             "kept": [str(p) for p in r.kept]},
    results.NotifyTestReport: lambda r: {"backend": r.backend, "id": r.id,
                                   "actions_shown": r.actions_shown, "chain": list(r.chain)},
}


def _next_text(r: Any) -> str:
    lines = [f"{format_instant(u.local)}  {u.routine.id:<22} {u.routine.title}"
             + ("  [held back: quiet hours]" if u.held else "") for u in r.items]
    if not r.items:
        lines.append(f"no reminders ahead ({r.zone})")
    if r.follow_ups:  # after a blank line: the lines above stay one firing each
        lines += ["", "follow-ups, timed by what they follow:"]
        lines += [f"  after {x.schedule.after!s:<22} {x.id:<22} {x.title}"
                  for x in r.follow_ups]
    return "\n".join(lines)


def _warnings_json(warnings: list[Any]) -> list[dict[str, str]]:
    return [{"routine": w.routine, "kind": w.kind, "text": w.text} for w in warnings]


def _listing_text(r: Any) -> str:
    lines = []
    indent = " " * 28
    for row in r.rows:
        state = "on " if row.enabled else "off"
        lines.append(f"{row.id:<22} {state}  {row.schedule}")
        lines.append(f"{indent}{row.title} — seed: {', '.join(row.seed) or '(none)'}")
        lines.append(f"{indent}{_origins_text(row)}")
        if row.never_shown:
            lines.append(f"{indent}warning: {row.never_shown.text}")
    return "\n".join(lines) or "no routines"


def _origins_text(row: Any) -> str:
    """"from FILE", or for a routine a user's file changes: the file under it, then the
    user's file and the keys it sets."""
    changed = [key for key, path in row.origins.items()
               if path == row.source and key != "schema_version"]
    under = list(dict.fromkeys(p for p in row.origins.values() if p != row.source))
    if not under:
        return f"from {row.source}"
    return (f"from {', '.join(map(str, under))}; changed by {row.source}: "
            f"{', '.join(changed)}")


def _check_text(r: Any) -> str:
    config = f"; settings from {r.config}" if r.config else ""
    summary = (f"ok: {r.files} file(s), {r.routines} routine(s), {r.enabled} enabled{config}"
               if r.files or not r.config else f"ok: settings {r.config}")
    return "\n".join([summary] + [f"warning: {w}" for w in r.never_shown])


def _init_text(r: Any) -> str:
    lines = [f"created {p}" for p in r.created]
    lines += [f"kept    {p} (exists; not overwritten)" for p in r.kept]
    return "\n".join(lines)


def _notify_test_text(r: Any) -> str:
    shown = f" (notification id {r.id})" if r.id is not None else ""
    return f"delivered via {r.backend}{shown}; notifier chain: {' > '.join(r.chain)}"


def _cramp_text(r: Any) -> str:
    parts = [p for p in (f"{r.leg} leg" if r.leg else "",
                         f"severity {r.severity}" if r.severity else "", r.note or "") if p]
    extra = f" ({', '.join(parts)})" if parts else ""
    shifted = f"\nnote: {r.shifted}" if r.shifted else ""
    return f"logged a cramp at {format_instant(r.when, r.zone, 'minutes')}{extra}{shifted}"


def _night_text(r: Any) -> str:
    day = r.night.strftime("%a %Y-%m-%d")
    return f"logged the night of {day} (to the morning after) as without cramps"


def _reported_text(r: Any) -> str:
    told = ("; the daemon was told" if r.not_told is None else
            f"; the daemon was not told ({r.not_told}): it reads the journal when it starts")
    shifted = f"\nnote: {r.shifted}" if r.shifted else ""
    return f"logged a {r.name} at {format_instant(r.when, r.zone, 'minutes')}{told}{shifted}"


_TEXT: dict[type, Any] = {
    results.NightReport: _night_text,
    results.EventReport: _reported_text,
    results.HistoryReport: lambda r: "\n".join(_event_text(e, r.zone) for e in r.events)
    or "nothing in the journal for that period",
    results.StatsReport: lambda r: _stats_text(r),
    results.ReportWritten: lambda r: _report_text(r),
    results.CrampReport: _cramp_text,
    results.NextReport: _next_text,
    results.Listing: _listing_text,
    results.CheckReport: _check_text,
    results.InitReport: _init_text,
    results.NotifyTestReport: _notify_test_text,
}


def _status_text(r: commands.StatusReply) -> str:
    lines = [f"crampguard is running (pid {r.pid}) since {format_instant(r.running_since)}, "
             f"zone {r.zone}, notifiers {' > '.join(r.notifiers)}"]
    lines.append(f"paused until {format_instant(r.paused_until)}" if r.paused_until
                 else "not paused")
    last = r.last_delivery
    lines.append(f"last delivery: {last.routine} at {format_instant(last.at)} via "
                 f"{last.backend}" if last else "last delivery: none yet")
    lines.append("next:")
    lines += [f"  {format_instant(x.next)}  {x.id:<22} {x.title}" for x in r.routines] \
        or ["  nothing scheduled"]
    lines += [f"problem: {p}" for p in r.problems]
    return "\n".join(lines)


def _skip_text(r: commands.SkipReply) -> str:
    following = f"; next {format_instant(r.next)}" if r.next else "; none after it"
    return f"skipped {r.routine} due {format_instant(r.skipped)}{following}"


def _trigger_text(r: commands.TriggerReply) -> str:
    """What became of the reminder: a `trigger` tried again would show it twice."""
    if r.in_progress:
        return (f"accepted: {r.routine} is still on its way (the notification server is "
                f"slow to answer); it is shown once and recorded, `crampguard history` says "
                f"how, and a trigger again now does not show it twice")
    via, first = r.backend, r.first_choice
    if r.earlier:
        return (f"{r.routine} was delivered at {format_instant(r.at)} via {via} by the "
                f"trigger before (its answer came too late); not shown again")
    text = f"delivered {r.routine} now via {via}"
    if first is not None and via != first:
        after = f" after {r.seconds:.0f} s" if (r.seconds or 0) >= 1 else ""
        text += f": {first} failed{after} (the daemon's log says why)"
    return text


def _done_text(r: commands.DoneReply) -> str:
    state = "was already recorded as done" if r.already else "recorded as done"
    return f"{r.routine} (due {format_instant(r.due)}) {state}"


def _reload_text(r: commands.ReloadReply) -> str:
    problems = "".join(f"\nproblem: {p}" for p in r.problems)
    # The daemon's own timers are no routines: said apart, as its log line does.
    pending = ", ".join(f"{count} {kind}{'s' if count > 1 else ''}"
                        for kind, count in sorted(r.pending.items()))
    also = f"; also pending: {pending}" if pending else ""
    return f"reloaded: {r.routines} routine(s) enabled{also}{problems}"


_TEXT.update({
    commands.StatusReply: _status_text,
    commands.PauseReply: lambda r: f"paused until {format_instant(r.paused_until)}",
    commands.ResumeReply: lambda r: "resumed" if r.was_paused_until else "was not paused",
    commands.SnoozeReply: lambda r: f"snoozed {r.routine} until {format_instant(r.until)}"
    + (f"; {r.then}" if r.then else ""),
    commands.SkipReply: _skip_text,
    commands.DoneReply: _done_text,
    commands.TriggerReply: _trigger_text,
    commands.ReloadReply: _reload_text,
    commands.EventReply: lambda r: f"{r.event}: {', '.join(r.followups) or 'no follow-ups'}",
})


def _event_text(event: Any, zone: Any) -> str:
    # An empty field says nothing ("leg None" is noise), so it is left out.
    detail = {k: v for k, v in (event.detail or {}).items() if v not in (None, "", [], {})}
    bits = []
    if event.due is not None:
        # A weekday names a day only within the week around the entry's own date.
        near = abs(event.due - event.at) < timedelta(days=3)
        bits.append(f"due {format_instant(event.due, zone, 'weekday' if near else 'local')}")
    if event.backend:
        bits.append(f"via {event.backend}")
    bits += [f"{k} {_detail_value(v, zone)}" for k, v in detail.items() if k != "problems"]
    bits += detail.get("problems", [])
    return (f"{format_instant(event.at, zone, 'local')}  {event.kind:<12} "
            f"{event.routine or '':<22} {'; '.join(str(b) for b in bits)}").rstrip()


def _detail_value(value: Any, zone: Any) -> str:
    """A detail as the user reads it: an instant (a pause's "until", a cramp's "when") is
    stored in UTC, ISO 8601, and shown in the user's zone like the other columns."""
    if isinstance(value, str):
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            return value
        if at.tzinfo is not None:
            return format_instant(at, zone, "local")
    return str(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _report_text(r: Any) -> str:
    n = r.nights
    known = n.cramp + n.no_cramp
    return "\n".join([
        f"wrote {r.path} ({'the pictures, PNG' if r.format == 'png' else 'one page, HTML'})",
        f"  {r.first} to {r.last}: {r.days} day{'s' if r.days != 1 else ''} in {r.zone}, "
        f"{r.routines} routine{'s' if r.routines != 1 else ''} enabled",
        f"  nights: {known} known ({n.cramp} with a cramp, {n.no_cramp} without), "
        f"{n.unknown} unknown (nothing logged), {r.nights_not_over} not over in the period"])


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
    n = report.nights
    lines.append(f"nights: {n.cramp} with a cramp, {n.no_cramp} without, {n.unknown} unknown"
                 + (" (answer the morning check-in, or `crampguard log-cramp --none`)"
                    if n.unknown else ""))
    for c in report.cramps:
        unknown = f"; {c.nights_unknown} unknown, left out" if c.nights_unknown else ""
        lines.append(
            f"{c.routine}: nights done {c.nights_done} (cramps on {c.cramp_nights_done}, "
            f"{_pct(c.rate_done)}); nights not done {c.nights_not_done} (cramps on "
            f"{c.cramp_nights_not_done}, {_pct(c.rate_not_done)}){unknown}: {c.verdict}")
    return "\n".join(lines)


# --- the session: `service` and `doctor` --------------------------------------------------


def _command_text(command: Any) -> str:
    import shlex

    return shlex.join(command) if command else "(no command found)"


def _entry_json(e: Any) -> dict[str, Any]:
    return {"kind": e.kind, "path": str(e.path), "ours": e.ours,
            "command": list(e.command) if e.command else None, "stale": e.stale}


def _service_status_json(r: Any) -> dict[str, Any]:
    s = r.status
    manager = s.manager
    return {"kind": s.kind, "path": str(s.path), "installed": bool(s.entries),
            "entries": [_entry_json(e) for e in s.entries],
            "manager": None if manager is None else {
                "name": manager.name, "active": manager.active, "enabled": manager.enabled},
            "running": r.pid is not None, "pid": r.pid, "notes": list(s.notes)}


def _service_install_text(r: Any) -> str:
    i = r.installed
    state = {"unchanged": "unchanged (already installed)", "replaced":
             "replaced (--force)"}.get(i.file, i.file)
    lines = [f"{state}: {i.path} ({i.kind})", f"  runs: {_command_text(i.command)}"]
    lines += [f"removed {p} (one entry is enough)" for p in i.removed]
    lines += [f"ran: {c}" for c in i.ran]
    lines += [f"note: {n}" for n in r.notes]
    return "\n".join(lines)


def _service_uninstall_text(r: Any) -> str:
    x = r.removed
    lines = [f"ran: {c}" for c in x.ran]
    lines += [f"removed {p}" for p in x.removed]
    lines += [f"left {e.path}: not written by crampguard" for e in x.kept]
    if not x.removed:
        lines.append("nothing to remove: no start-up entry of crampguard's is installed")
    lines += [f"note: {n}" for n in r.notes]
    return "\n".join(lines)


def _service_status_lines(r: Any) -> list[str]:
    s = r.status
    lines = []
    for e in s.entries:
        whose = "written by crampguard" if e.ours else "not written by crampguard"
        lines.append(f"installed: {e.path} ({e.kind}, {whose})")
        lines.append(f"  runs: {_command_text(e.command)}")
        if e.stale and e.command:
            lines.append(f"  stale: {e.command[0]} no longer exists; `crampguard service "
                         "install` again")
    if not s.entries:
        lines.append(f"not installed (`crampguard service install` writes {s.path})")
    if s.manager is not None:
        enabled = f", {s.manager.enabled}" if s.manager.enabled else ""
        lines.append(f"{s.manager.name}: {s.manager.active}{enabled}")
    lines.append(f"daemon: running (pid {r.pid})" if r.pid is not None
                 else "daemon: not running")
    lines += [f"note: {n}" for n in s.notes]
    return lines


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    return f"{n / 1024:.1f} KiB" if n < 1024 ** 2 else f"{n / 1024 ** 2:.1f} MiB"


def _doctor_json(r: Any) -> dict[str, Any]:
    server = r.server
    j = r.journal
    daemon = r.daemon
    return {
        "ok": not r.problems, "problems": r.problems, "notes": r.notes,
        "notification_server": {
            "answers": server is not None, "error": r.server_error,
            "name": server.name if server else None,
            "vendor": server.vendor if server else None,
            "version": server.version if server else None,
            "spec_version": server.spec_version if server else None,
            "capabilities": sorted(server.capabilities) if server else [],
            "actions": bool(server) and "actions" in server.capabilities,
            "body_markup": bool(server) and "body-markup" in server.capabilities},
        "delivery": {"notifier": r.notifier, "chain": list(r.chain), "delivers": r.delivers},
        "zone": r.zone,
        "routines": [{"id": p.id, "title": p.title,
                      "next": p.at.isoformat() if p.at else None, "after": p.after,
                      "warning": _warnings_json([p.warning])[0] if p.warning else None}
                     for p in r.routines],
        "files": {"settings": str(r.settings_file) if r.settings_file else None,
                  "problems": r.file_problems},
        "journal": {"path": str(j.path), "exists": j.exists, "readable": j.readable,
                    "writable": j.writable, "size": j.size, "problem": j.problem,
                    "damaged": j.damaged},
        "service": _service_status_json(r.service),
        "daemon": {"running": daemon is not None, "pid": daemon.pid if daemon else None,
                   "paused_until": daemon.paused_until.isoformat()
                   if daemon and daemon.paused_until else None,
                   "problems": daemon.problems if daemon else [], "error": r.daemon_error},
        "presence": [{"name": s.name, "found": s.found, "detail": s.detail,
                      "provides": list(s.provides), "used": s.used} for s in r.presence],
    }


def _next_text_of(p: Any) -> str:
    """A routine's next firing, or the cause a follow-up waits for, or "never"."""
    return format_instant(p.at) if p.at else f"after {p.after}" if p.after else "never"


def _doctor_text(r: Any) -> str:
    server = r.server
    if server is not None:
        caps = server.capabilities
        lines = [f"notification server: {server.name} {server.version} ({server.vendor}), "
                 f"spec {server.spec_version}; buttons: "
                 f"{'yes' if 'actions' in caps else 'no (the command to type instead)'}; "
                 f"body markup: {'yes' if 'body-markup' in caps else 'no'}"]
    else:
        lines = [f"notification server: none answers ({r.server_error})"]
    lines.append(f"delivery: notifier {r.notifier} ({' > '.join(r.chain)}); a reminder now "
                 f"goes to {r.delivers}")
    lines.append(f"zone: {r.zone}")
    lines.append("next of each enabled routine:" if r.routines else "no enabled routine")
    lines += [f"  {_next_text_of(p):<30} {p.id:<22} {p.title}"
              + (f" (or {p.after})" if p.at and p.after else "") for p in r.routines]
    settings = f"settings {r.settings_file}" if r.settings_file else "default settings"
    lines.append(f"files: {len(r.file_problems)} problem(s), {settings}" if r.file_problems
                 else f"files: ok, {settings}")
    j = r.journal
    if j.exists:
        state = ", ".join(w for w, ok in (("readable", j.readable), ("writable", j.writable))
                          if ok) or "neither readable nor writable"
        lines.append(f"journal: {j.path} ({_size(j.size)}): {state}")
    else:
        lines.append(f"journal: {j.path} not created yet (the daemon creates it"
                     f"{'' if j.writable else '; its folder cannot be written'})")
    lines += [f"service: {line}" for line in _service_status_lines(r.service)
              if not line.startswith(("daemon:", "note:"))]
    if r.daemon is not None:
        paused = (f", paused until {format_instant(r.daemon.paused_until)}"
                  if r.daemon.paused_until else "")
        lines.append(f"daemon: running (pid {r.daemon.pid}) since "
                     f"{format_instant(r.daemon.running_since)}{paused}")
    else:
        lines.append(f"daemon: not running{f' ({r.daemon_error})' if r.daemon_error else ''}")
    lines += [f"presence: {s.name}: {s.detail}" + (
        f" [{', '.join(s.provides)}{'; idle time from here' if s.used else ''}]"
        if s.found else "") for s in r.presence]
    lines += [f"problem: {p}" for p in r.problems]
    lines += [f"note: {n}" for n in r.notes]
    if not r.problems:
        lines.append("ok: nothing stops your reminders")
    return "\n".join(lines)


_JSON.update({
    results.ServiceInstallReport: lambda r: {
        "kind": r.installed.kind, "path": str(r.installed.path),
        "command": list(r.installed.command), "file": r.installed.file,
        "removed": [str(p) for p in r.installed.removed], "ran": r.installed.ran,
        "notes": r.notes},
    results.ServiceUninstallReport: lambda r: {
        "removed": [str(p) for p in r.removed.removed],
        "kept": [str(e.path) for e in r.removed.kept], "ran": r.removed.ran,
        "notes": r.notes},
    results.ServiceStatusReport: _service_status_json,
    results.DoctorReport: _doctor_json,
})
_TEXT.update({
    results.ServiceInstallReport: _service_install_text,
    results.ServiceUninstallReport: _service_uninstall_text,
    results.ServiceStatusReport: lambda r: "\n".join(_service_status_lines(r)),
    results.DoctorReport: _doctor_text,
})


# --- export: the data to standard output, or the reply about the file written ----------


class _Utf8:
    """Text to a binary stream as UTF-8, whatever the locale says, with no newline
    translation (CSV's line ends are its own)."""

    def __init__(self, raw: Any):
        self.raw = raw

    def write(self, text: str) -> object:
        return self.raw.write(text.encode("utf-8", "backslashreplace"))


def _export_data(r: results.ExportData, out: TextIO, err: TextIO) -> None:
    out.flush()
    raw = getattr(out, "buffer", None)
    r.write(out if raw is None else _Utf8(raw))
    (out if raw is None else raw).flush()
    if r.no_journal is not None:
        print(f"note: no journal yet ({r.no_journal}): nothing to export", file=err)


def _export_text(r: results.ExportReport) -> str:
    from scheduler.cli.times import EARLIEST

    period = ("the whole journal" if r.first is None else f"everything up to {r.last}"
              if r.first == EARLIEST else f"{r.first} to {r.last}")
    text = f"exported {r.entries} entr{'y' if r.entries == 1 else 'ies'} ({period}) to {r.path}"
    return text + (f"; no journal yet ({r.no_journal})" if r.no_journal is not None else "")


_TEXT[results.ExportReport] = _export_text
