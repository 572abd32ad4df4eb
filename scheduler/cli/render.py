"""Printing command results, as text for people or JSON for scripts. Nothing else prints."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime, timedelta
from typing import Any, TextIO

from scheduler.cli import results
from scheduler.control import commands
from scheduler.i18n import N_, Nn_, _, ngettext, pad, routine_text
from scheduler.timing.grammar import format_day, format_instant


def emit(result: Any, *, as_json: bool = False, out: TextIO | None = None,
         err: TextIO | None = None) -> None:
    out = out or sys.stdout
    err = err or sys.stderr
    if isinstance(result, results.ExportData):  # the data itself: streamed, not a reply
        _export_data(result, out, err)
        return
    for warning in getattr(result, "warnings", []):
        print(_("warning: {warning} (left out; `crampguard check` lists every problem)")
              .format(warning=warning), file=err)
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
    lines = [f"{format_instant(u.local)}  {u.routine.id:<22} {routine_text(u.routine.title)}"
             + (_("  [held back: quiet hours]") if u.held else "") for u in r.items]
    if not r.items:
        lines.append(_("no reminders ahead ({zone})").format(zone=r.zone))
    if r.follow_ups:  # after a blank line: the lines above stay one firing each
        lines += ["", _("follow-ups, timed by what they follow:")]
        lines += [_("  after {cause} {id} {title}").format(
            cause=pad(str(x.schedule.after), -22), id=f"{x.id:<22}",
            title=routine_text(x.title)) for x in r.follow_ups]
    return "\n".join(lines)


def _warnings_json(warnings: list[Any]) -> list[dict[str, str]]:
    return [{"routine": w.routine, "kind": w.kind, "text": w.text} for w in warnings]


def _listing_text(r: Any) -> str:
    lines = []
    indent = " " * 28
    for row in r.rows:
        state = pad(_("on") if row.enabled else _("off"), 3)
        lines.append(f"{row.id:<22} {state}  {row.schedule}")
        lines.append(indent + _("{title} — seed: {seeds}").format(
            title=routine_text(row.title), seeds=", ".join(row.seed) or _("(none)")))
        lines.append(f"{indent}{_origins_text(row)}")
        if row.never_shown:
            lines.append(indent + _("warning: {warning}").format(warning=row.never_shown.text))
    return "\n".join(lines) or _("no routines")


def _origins_text(row: Any) -> str:
    """"from FILE", or for a routine a user's file changes: the file under it, then the
    user's file and the keys it sets."""
    changed = [key for key, path in row.origins.items()
               if path == row.source and key != "schema_version"]
    under = list(dict.fromkeys(p for p in row.origins.values() if p != row.source))
    if not under:
        return _("from {file}").format(file=row.source)
    return _("from {files}; changed by {file}: {keys}").format(
        files=", ".join(map(str, under)), file=row.source, keys=", ".join(changed))


def _check_text(r: Any) -> str:
    config = _("; settings from {file}").format(file=r.config) if r.config else ""
    summary = (_("ok: {files} file(s), {routines} routine(s), {enabled} enabled{config}")
               .format(files=r.files, routines=r.routines, enabled=r.enabled, config=config)
               if r.files or not r.config else _("ok: settings {file}").format(file=r.config))
    return "\n".join([summary] + [_("warning: {warning}").format(warning=w)
                                  for w in r.never_shown])


def _init_text(r: Any) -> str:
    lines = [_("created {file}").format(file=p) for p in r.created]
    lines += [_("kept    {file} (exists; not overwritten)").format(file=p) for p in r.kept]
    return "\n".join(lines)


def _notify_test_text(r: Any) -> str:
    shown = _(" (notification id {id})").format(id=r.id) if r.id is not None else ""
    return _("delivered via {backend}{shown}; notifier chain: {chain}").format(
        backend=r.backend, shown=shown, chain=" > ".join(r.chain))


def _cramp_text(r: Any) -> str:
    parts = [p for p in (_(LEG_WORDS[r.leg]) if r.leg else "",
                         _("severity {n}").format(n=r.severity) if r.severity else "",
                         r.note or "") if p]
    extra = f" ({_(', ').join(parts)})" if parts else ""
    shifted = "\n" + _("note: {note}").format(note=r.shifted) if r.shifted else ""
    return _("logged a cramp at {when}{extra}{shifted}").format(
        when=format_instant(r.when, r.zone, "minutes"), extra=extra, shifted=shifted)


#: The events `log` takes, in words.
EVENT_WORDS = {"workout": N_("workout")}
#: The legs as `log-cramp --leg` takes them, in words.
LEG_WORDS = {"left": N_("left leg"), "right": N_("right leg"), "both": N_("both legs")}


def _night_text(r: Any) -> str:
    return _("logged the night of {day} (to the morning after) as without cramps").format(
        day=format_day(r.night))


def _reported_text(r: Any) -> str:
    told = (_("; the daemon was told") if r.not_told is None else
            _("; the daemon was not told ({why}): it reads the journal when it starts")
            .format(why=r.not_told))
    shifted = "\n" + _("note: {note}").format(note=r.shifted) if r.shifted else ""
    return _("logged a {event} at {when}{told}{shifted}").format(
        event=_(EVENT_WORDS.get(r.name, r.name)), told=told, shifted=shifted,
        when=format_instant(r.when, r.zone, "minutes"))


_TEXT: dict[type, Any] = {
    results.NightReport: _night_text,
    results.EventReport: _reported_text,
    results.HistoryReport: lambda r: "\n".join(_event_text(e, r.zone) for e in r.events)
    or _("nothing in the journal for that period"),
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
    lines = [_("crampguard is running (pid {pid}) since {since}, zone {zone}, notifiers "
               "{chain}").format(pid=r.pid, since=format_instant(r.running_since),
                                 zone=r.zone, chain=" > ".join(r.notifiers))]
    lines.append(_("paused until {until}").format(until=format_instant(r.paused_until))
                 if r.paused_until else _("not paused"))
    last = r.last_delivery
    lines.append(_("last delivery: {routine} at {at} via {backend}").format(
        routine=last.routine, at=format_instant(last.at), backend=last.backend)
        if last else _("last delivery: none yet"))
    lines.append(_("next:"))
    lines += [f"  {format_instant(x.next)}  {x.id:<22} {routine_text(x.title)}"
              for x in r.routines] or [_("  nothing scheduled")]
    for channel in r.channels:
        result = channel.last
        lines.append(_("channel {name}: {kind} to {to}; {last}").format(
            name=channel.name, kind=channel.kind, to=channel.to,
            last=_("nothing sent yet") if result is None else
            (_("last ok at {at}") if result.ok else _("last failed at {at}: {text}")).format(
                at=format_instant(result.at), text=result.text)))
    lines += [_("problem: {problem}").format(problem=p) for p in r.problems]
    return "\n".join(lines)


def _skip_text(r: commands.SkipReply) -> str:
    following = (_("; next {at}").format(at=format_instant(r.next)) if r.next
                 else _("; none after it"))
    return _("skipped {routine} due {due}{following}").format(
        routine=r.routine, due=format_instant(r.skipped), following=following)


def _trigger_text(r: commands.TriggerReply) -> str:
    """What became of the reminder: a `trigger` tried again would show it twice."""
    if r.in_progress:
        return _("accepted: {routine} is still on its way (the notification server is slow "
                 "to answer); it is shown once and recorded, `crampguard history` says how, "
                 "and a trigger again now does not show it twice").format(routine=r.routine)
    via, first = r.backend, r.first_choice
    if r.earlier:
        return _("{routine} was delivered at {at} via {backend} by the trigger before (its "
                 "answer came too late); not shown again").format(
            routine=r.routine, at=format_instant(r.at), backend=via)
    text = _("delivered {routine} now via {backend}").format(routine=r.routine, backend=via)
    if first is not None and via != first:
        after = (_(" after {seconds} s").format(seconds=f"{r.seconds:.0f}")
                 if (r.seconds or 0) >= 1 else "")
        text += _(": {first} failed{after} (the daemon's log says why)").format(
            first=first, after=after)
    return text


def _done_text(r: commands.DoneReply) -> str:
    text = (_("{routine} (due {due}) was already recorded as done") if r.already
            else _("{routine} (due {due}) recorded as done"))
    return text.format(routine=r.routine, due=format_instant(r.due))


def _reload_text(r: commands.ReloadReply) -> str:
    problems = "".join("\n" + _("problem: {problem}").format(problem=p) for p in r.problems)
    # The daemon's own timers are no routines: said apart, as its log line does.
    pending = _(", ").join(_pending_text(kind, count) for kind, count in sorted(r.pending.items()))
    also = _("; also pending: {timers}").format(timers=pending) if pending else ""
    return _("reloaded: {n} routine(s) enabled{also}{problems}").format(
        n=r.routines, also=also, problems=problems)


def _pending_text(kind: str, count: int) -> str:
    """"2 snoozes": the daemon's own timers by kind (an unknown kind as it is named)."""
    words = PENDING_WORDS.get(kind)
    if words is None:
        return f"{count} {kind}{'s' if count > 1 else ''}"
    return ngettext(*words, count).format(n=count)


#: The daemon's own timers, as `reload` counts them.
PENDING_WORDS = {"snooze": Nn_("{n} snooze", "{n} snoozes"),
                 "follow-up": Nn_("{n} follow-up", "{n} follow-ups"),
                 "repeat": Nn_("{n} repeat", "{n} repeats"),
                 "held reminder": Nn_("{n} held reminder", "{n} held reminders"),
                 "pause": Nn_("{n} pause", "{n} pauses")}


_TEXT.update({
    commands.StatusReply: _status_text,
    commands.PauseReply: lambda r: _("paused until {until}").format(
        until=format_instant(r.paused_until)),
    commands.ResumeReply: lambda r: _("resumed") if r.was_paused_until else _("was not paused"),
    commands.SnoozeReply: lambda r: _("snoozed {routine} until {until}").format(
        routine=r.routine, until=format_instant(r.until)) + (f"; {r.then}" if r.then else ""),
    commands.SkipReply: _skip_text,
    commands.DoneReply: _done_text,
    commands.TriggerReply: _trigger_text,
    commands.ReloadReply: _reload_text,
    commands.EventReply: lambda r: f"{r.event}: {', '.join(r.followups) or _('no follow-ups')}",
})


def _event_text(event: Any, zone: Any) -> str:
    # An empty field says nothing ("leg None" is noise), so it is left out.
    detail = {k: v for k, v in (event.detail or {}).items() if v not in (None, "", [], {})}
    bits = []
    if event.due is not None:
        # A weekday names a day only within the week around the entry's own date.
        near = abs(event.due - event.at) < timedelta(days=3)
        bits.append(_("due {at}").format(
            at=format_instant(event.due, zone, "weekday" if near else "local")))
    if event.backend:
        bits.append(_("via {backend}").format(backend=event.backend))
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
        _("wrote {file} (the pictures, PNG)") if r.format == "png"
        else _("wrote {file} (one page, HTML)"),
        "  " + _("{first} to {last}: {days} in {zone}, {routines} enabled"),
        "  " + _("nights: {known} known ({cramp} with a cramp, {no_cramp} without), {unknown} "
                 "unknown (nothing logged), {not_over} not over in the period"),
    ]).format(file=r.path, first=r.first, last=r.last, zone=r.zone,
              days=ngettext("{n} day", "{n} days", r.days).format(n=r.days),
              routines=ngettext("{n} routine", "{n} routines", r.routines).format(
                  n=r.routines), known=known, cramp=n.cramp, no_cramp=n.no_cramp,
              unknown=n.unknown, not_over=r.nights_not_over) + (
                  "\n" + _("note: {note}").format(note=r.note) if r.note else "")


def _stats_text(report: Any) -> str:
    heads = [(_("routine"), -22), (_("due"), 5), (_("sent"), 5), (_("done"), 5),
             (_("snooze"), 6), (_("skip"), 5), (_("missed"), 6), (_("kept"), 6),
             (_("streak"), 6)]
    lines = [_("the last {n} day(s)").format(n=report.days),
             " ".join(pad(word, width) for word, width in heads)]
    for r in report.routines:
        lines.append(f"{r.routine:<22} {r.due:>5} {r.delivered:>5} {r.done:>5} "
                     f"{r.snoozed:>6} {r.skipped:>5} {r.missed:>6} {_pct(r.adherence):>6} "
                     f"{r.streak:>6}")
    if not report.routines:
        lines.append(_("(nothing in the journal yet)"))
    lines.append(_("cramps logged: {n}").format(n=report.cramp_count))
    n = report.nights
    lines.append(_("nights: {cramp} with a cramp, {no_cramp} without, {unknown} unknown")
                 .format(cramp=n.cramp, no_cramp=n.no_cramp, unknown=n.unknown)
                 + (_(" (answer the morning check-in, or `crampguard log-cramp --none`)")
                    if n.unknown else ""))
    for c in report.cramps:
        unknown = (_("; {n} unknown, left out").format(n=c.nights_unknown)
                   if c.nights_unknown else "")
        lines.append(_(
            "{routine}: nights done {done} (cramps on {cramp_done}, {rate_done}); nights not "
            "done {not_done} (cramps on {cramp_not_done}, {rate_not_done}){unknown}: "
            "{verdict}").format(
            routine=c.routine, done=c.nights_done, cramp_done=c.cramp_nights_done,
            rate_done=_pct(c.rate_done), not_done=c.nights_not_done,
            cramp_not_done=c.cramp_nights_not_done, rate_not_done=_pct(c.rate_not_done),
            unknown=unknown, verdict=c.verdict))
    return "\n".join(lines)


# --- the session: `service` and `doctor` --------------------------------------------------


def _command_text(command: Any) -> str:
    import shlex

    return shlex.join(command) if command else _("(no command found)")


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


#: What `service install` did with the file, in words.
INSTALL_WORDS = {"unchanged": N_("unchanged (already installed)"),
                 "replaced": N_("replaced (--force)"), "created": N_("created"),
                 "updated": N_("updated")}


def _service_install_text(r: Any) -> str:
    i = r.installed
    state = _(INSTALL_WORDS.get(i.file, i.file))
    lines = [f"{state}: {i.path} ({i.kind})",
             "  " + _("runs: {command}").format(command=_command_text(i.command))]
    lines += [_("removed {file} (one entry is enough)").format(file=p) for p in i.removed]
    lines += [_("ran: {command}").format(command=c) for c in i.ran]
    lines += [_("note: {note}").format(note=n) for n in r.notes]
    return "\n".join(lines)


def _service_uninstall_text(r: Any) -> str:
    x = r.removed
    lines = [_("ran: {command}").format(command=c) for c in x.ran]
    lines += [_("removed {file}").format(file=p) for p in x.removed]
    lines += [_("left {file}: not written by crampguard").format(file=e.path) for e in x.kept]
    if not x.removed:
        lines.append(_("nothing to remove: no start-up entry of crampguard's is installed"))
    lines += [_("note: {note}").format(note=n) for n in r.notes]
    return "\n".join(lines)


def _service_status_lines(r: Any, *, whole: bool = True) -> list[str]:
    """The entries and the service manager; ``whole``: the daemon and the notes too
    (`doctor` says those in its own lines)."""
    s = r.status
    lines = []
    for e in s.entries:
        whose = _("written by crampguard") if e.ours else _("not written by crampguard")
        lines.append(_("installed: {file} ({kind}, {whose})").format(
            file=e.path, kind=e.kind, whose=whose))
        lines.append("  " + _("runs: {command}").format(command=_command_text(e.command)))
        if e.stale and e.command:
            lines.append("  " + _("stale: {program} no longer exists; `crampguard service "
                                  "install` again").format(program=e.command[0]))
    if not s.entries:
        lines.append(_("not installed (`crampguard service install` writes {file})").format(
            file=s.path))
    if s.manager is not None:
        enabled = f", {s.manager.enabled}" if s.manager.enabled else ""
        lines.append(f"{s.manager.name}: {s.manager.active}{enabled}")
    if not whole:
        return lines
    lines.append(_("daemon: running (pid {pid})").format(pid=r.pid) if r.pid is not None
                 else _("daemon: not running"))
    lines += [_("note: {note}").format(note=n) for n in s.notes]
    return lines


def _size(n: int) -> str:
    if n < 1024:
        return ngettext("{n} byte", "{n} bytes", n).format(n=n)
    return f"{n / 1024:.1f} KiB" if n < 1024 ** 2 else f"{n / 1024 ** 2:.1f} MiB"


def _doctor_json(r: Any) -> dict[str, Any]:
    found = _doctor_json_common(r)
    if r.channels:  # the [reach] channels, when there are any
        found["channels"] = [{"name": c.name, "kind": c.kind, "to": c.to,
                              "problems": c.problems} for c in r.channels]
    return found


def _doctor_json_common(r: Any) -> dict[str, Any]:
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
    if p.at:
        return format_instant(p.at)
    return _("after {cause}").format(cause=p.after) if p.after else _("never")


def _doctor_text(r: Any) -> str:
    server = r.server
    if server is not None:
        caps = server.capabilities
        lines = [_("notification server: {name} {version} ({vendor}), spec {spec}; buttons: "
                   "{buttons}; body markup: {markup}").format(
            name=server.name, version=server.version, vendor=server.vendor,
            spec=server.spec_version,
            buttons=_("yes") if "actions" in caps else _("no (the command to type instead)"),
            markup=_("yes") if "body-markup" in caps else _("no"))]
    else:
        lines = [_("notification server: none answers ({error})").format(error=r.server_error)]
    lines.append(_("delivery: notifier {notifier} ({chain}); a reminder now goes to "
                   "{backend}").format(notifier=r.notifier, chain=" > ".join(r.chain),
                                       backend=r.delivers))
    lines.append(_("zone: {zone}").format(zone=r.zone))
    lines.append(_("next of each enabled routine:") if r.routines else _("no enabled routine"))
    lines += [f"  {pad(_next_text_of(p), -30)} {p.id:<22} {routine_text(p.title)}"
              + (_(" (or {cause})").format(cause=p.after) if p.at and p.after else "")
              for p in r.routines]
    settings = (_("settings {file}").format(file=r.settings_file) if r.settings_file
                else _("default settings"))
    lines.append(_("files: {n} problem(s), {settings}").format(
        n=len(r.file_problems), settings=settings) if r.file_problems
        else _("files: ok, {settings}").format(settings=settings))
    j = r.journal
    if j.exists:
        state = _(", ").join(w for w, ok in ((_("readable"), j.readable),
                                             (_("writable"), j.writable)) if ok) \
            or _("neither readable nor writable")
        lines.append(_("journal: {file} ({size}): {state}").format(
            file=j.path, size=_size(j.size), state=state))
    else:
        lines.append((_("journal: {file} not created yet (the daemon creates it)")
                      if j.writable else
                      _("journal: {file} not created yet (the daemon creates it; its folder "
                        "cannot be written)")).format(file=j.path))
    lines += [_("service: {line}").format(line=line)
              for line in _service_status_lines(r.service, whole=False)]
    if r.daemon is not None:
        paused = (_(", paused until {until}").format(
            until=format_instant(r.daemon.paused_until)) if r.daemon.paused_until else "")
        lines.append(_("daemon: running (pid {pid}) since {since}{paused}").format(
            pid=r.daemon.pid, since=format_instant(r.daemon.running_since), paused=paused))
    else:
        lines.append(_("daemon: not running ({error})").format(error=r.daemon_error)
                     if r.daemon_error else _("daemon: not running"))
    lines += [_("reach {name}: {kind} to {to}: {state}").format(
        name=c.name, kind=c.kind, to=c.to or "?",
        state=_("ok") if not c.problems else _("see the problem below")) for c in r.channels]
    lines += [_("presence: {name}: {detail}").format(name=s.name, detail=s.detail) + (
        f" [{', '.join(s.provides)}{_('; idle time from here') if s.used else ''}]"
        if s.found else "") for s in r.presence]
    lines += [_("problem: {problem}").format(problem=p) for p in r.problems]
    lines += [_("note: {note}").format(note=n) for n in r.notes]
    if not r.problems:
        lines.append(_("ok: nothing stops your reminders"))
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
        print(_("note: no journal yet ({why}): nothing to export").format(why=r.no_journal),
              file=err)


def _export_text(r: results.ExportReport) -> str:
    from scheduler.cli.times import EARLIEST

    period = (_("the whole journal") if r.first is None
              else _("everything up to {last}").format(last=r.last) if r.first == EARLIEST
              else _("{first} to {last}").format(first=r.first, last=r.last))
    text = ngettext("exported {n} entry ({period}) to {file}",
                    "exported {n} entries ({period}) to {file}", r.entries).format(
        n=r.entries, period=period, file=r.path)
    return text + (_("; no journal yet ({why})").format(why=r.no_journal)
                   if r.no_journal is not None else "")


_TEXT[results.ExportReport] = _export_text


def _calendar_export_text(r: results.CalendarExportReport) -> str:
    return ngettext("wrote {n} reminder ({first} to {last}) to {path}",
                    "wrote {n} reminders ({first} to {last}) to {path}", r.items).format(
        n=r.items, first=f"{r.first:%Y-%m-%d %H:%M}", last=f"{r.last:%Y-%m-%d %H:%M}",
        path=r.path)


def _calendar_sync_text(r: results.CalendarSyncReport) -> str:
    text = _("synced {url}: {put} written, {deleted} deleted, {unchanged} unchanged "
             "({seconds} s)").format(url=r.url, put=r.put, deleted=r.deleted,
                                     unchanged=r.unchanged, seconds=f"{r.seconds:.1f}")
    if r.completed:
        text += ngettext("; {n} to-do completed on the phone: the daemon records it at its "
                         "next sync (`crampguard run`)",
                         "; {n} to-dos completed on the phone: the daemon records them at "
                         "its next sync (`crampguard run`)", r.completed).format(n=r.completed)
    return text


_TEXT[results.CalendarExportReport] = _calendar_export_text
_TEXT[results.CalendarSyncReport] = _calendar_sync_text
_JSON[results.CalendarExportReport] = lambda r: {
    "file": str(r.path), "items": r.items, "first": r.first.isoformat(),
    "last": r.last.isoformat()}
_JSON[results.CalendarSyncReport] = lambda r: {
    "url": r.url, "put": r.put, "deleted": r.deleted, "unchanged": r.unchanged,
    "completed": r.completed, "seconds": round(r.seconds, 3)}
