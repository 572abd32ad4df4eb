"""How fast the statistics are over a year of journal: 20 routines, the real reading path.

    .venv/bin/python bench/bench_stats.py [--routines 20] [--days 365] [--runs 5]

Builds a journal (through ``Journal.record``, one commit per event, as the daemon writes
it) with a year of reminders: each routine due 1-12 times a day, a mix of delivered,
done, snoozed, skipped and missed, a few failed deliveries and pauses, about one cramp a
week. Then times, wall clock, best of N (and the first, cold, run):

- ``routine_stats`` + ``cramp_relation`` the way the CLI does it: open the journal, count
  in SQL (``Journal.tally``), compute;
- the same over ``Event`` objects (``events(since=...)``), for comparison only: this is
  why the counting happens in SQL;
- ``python -m scheduler stats --days 365``, a fresh process, if the CLI has ``stats``.

Prints each figure next to the budget (0.5 s) and exits 1 when one is over budget.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler import clock
from scheduler.journal import stats
from scheduler.journal.store import Journal
from scheduler.paths import JOURNAL_FILE

# An installed crampguard has compiled bytecode (pip writes it); a sandbox that forbids
# writing it would make every run recompile, which is not what users meet.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

BUDGET_S = 0.5
ZONE = ZoneInfo("Europe/Berlin")
# The shipped evening routines, so the CLI finds them by id.
EVENING = {"foot-soak": clock_time(21, 45), "calf-stretch": clock_time(22, 15),
           "warm-calves-at-night": clock_time(22, 40)}


def plans(count: int, rng: random.Random) -> dict[str, tuple[list[clock_time], set[int], float]]:
    """Routine id -> (times of day, weekdays, how often the user does it)."""
    out: dict[str, tuple[list[clock_time], set[int], float]] = {
        name: ([at], set(range(7)), rng.uniform(0.45, 0.8)) for name, at in EVENING.items()}
    for n in range(count - len(EVENING)):
        times = sorted({clock_time(rng.randint(7, 20), rng.randrange(0, 60, 5))
                        for _ in range(rng.randint(1, 12))})
        days = rng.choice([set(range(7))] * 7 + [set(range(5))] * 2 + [{1, 3, 5}])
        out[f"routine-{n:02d}"] = (times, days, rng.uniform(0.3, 0.9))
    return out


def build(j: Journal, now: datetime, days: int, routines: int, seed: int) -> int:
    """A year of a plausible user; returns the number of events written."""
    rng = random.Random(seed)
    schedule = plans(routines, rng)
    written = 0

    def record(kind: str, routine: str | None = None, **kw: object) -> None:
        nonlocal written
        j.record(kind, routine, **kw)  # type: ignore[arg-type]
        written += 1

    today = now.astimezone(ZONE).date()
    for back in range(days, -1, -1):
        day = today - timedelta(days=back)
        soaked = False
        for routine, (times, weekdays, diligence) in schedule.items():
            if day.weekday() not in weekdays:
                continue
            for at in times:
                due = datetime.combine(day, at, tzinfo=ZONE).astimezone(UTC)
                if due > now - timedelta(hours=1):
                    continue
                roll = rng.random()
                if roll < 0.02:  # the computer was off: recorded once the daemon is back
                    back = due + timedelta(minutes=rng.randint(31, 300))
                    record("due", routine, at=back, due=due)
                    record("missed", routine, at=back, due=due, detail={"reason": "too late"})
                    continue
                record("due", routine, at=due, due=due)
                if roll < 0.04:  # paused by the user
                    record("skipped", routine, at=due, due=due, detail={"reason": "paused"})
                    continue
                backend = "dbus"
                if rng.random() < 0.01:
                    record("failed", routine, at=due, due=due,
                           detail={"backend": "dbus", "reason": "no notification server"})
                    backend = "console"
                record("delivered", routine, at=due + timedelta(seconds=1), due=due,
                       backend=backend)
                answer = rng.random()
                if answer < diligence:
                    later = timedelta(minutes=rng.randint(1, 15))
                    if rng.random() < 0.2:  # snoozed, shown again ten minutes later
                        record("snoozed", routine, at=due + later, due=due,
                               detail={"seconds": 600})
                        later += timedelta(minutes=10)
                        record("delivered", routine, at=due + later, due=due,
                               backend=backend, detail={"snoozed": True})
                        later += timedelta(minutes=rng.randint(1, 5))
                    record("done", routine, at=due + later, due=due)
                    soaked = soaked or routine == "foot-soak"
                elif answer < diligence + 0.1:
                    record("skipped", routine, at=due + timedelta(minutes=2), due=due)
        # About one cramp a week, fewer after a foot soak (so the relation has something
        # to find); in the small hours, logged in the morning.
        if rng.random() < (0.08 if soaked else 0.3):
            when = datetime.combine(day + timedelta(days=1),
                                    clock_time(rng.randint(1, 5), rng.randrange(60)),
                                    tzinfo=ZONE).astimezone(UTC)
            logged = when + timedelta(hours=3)
            if logged < now:
                j.log_cramp(when=when, at=logged, leg=rng.choice(["left", "right"]),
                            severity=rng.randint(1, 5))
                written += 1
        if rng.random() < 0.03:
            start = datetime.combine(day, clock_time(13), tzinfo=ZONE).astimezone(UTC)
            if start + timedelta(hours=2) < now:
                record("paused", at=start, detail={"until": start + timedelta(hours=2)})
                record("resumed", at=start + timedelta(hours=2))
    return written


def best(run: Callable[[], object], runs: int) -> tuple[float, float, object]:
    """(first run, best run) in seconds, and the result of the last run."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return times[0], min(times), result


def has_stats_command() -> bool:
    from scheduler.cli.main import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return "stats" in sub.choices


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routines", type=int, default=20)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args()

    # The bench is an edge: it reads the clock once, so the CLI sees the same year.
    now = clock.now().replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="crampguard-bench-") as tmp:
        base = Path(tmp)
        path = base / "state" / JOURNAL_FILE
        started = time.perf_counter()
        with Journal.open(path) as j:
            written = build(j, now, args.days, args.routines, args.seed)
        build_s = time.perf_counter() - started
        size = sum(p.stat().st_size for p in path.parent.iterdir()) / 1e6
        print(f"{written} events for {args.routines} routines over {args.days} days "
              f"({size:.1f} MB, built in {build_s:.1f} s), best of {args.runs} runs, "
              f"{sys.executable}")

        def through_sql() -> tuple[object, object]:
            w = stats.window(now=now, zone=ZONE, days=args.days)
            with Journal.open(path) as j:
                tally = j.tally(w)
            return (stats.routine_stats(tally, now=now, zone=ZONE, days=args.days),
                    stats.cramp_relation(tally, EVENING, now=now, zone=ZONE, days=args.days))

        def through_events() -> tuple[object, object]:
            w = stats.window(now=now, zone=ZONE, days=args.days)
            with Journal.open(path) as j:
                events = j.events(since=w.start)
            tally = stats.tally(events, w)
            return (stats.routine_stats(tally, now=now, zone=ZONE, days=args.days),
                    stats.cramp_relation(tally, EVENING, now=now, zone=ZONE, days=args.days))

        over = []
        first, fastest, result = best(through_sql, args.runs)
        rows, relations = result  # type: ignore[misc]
        if len(rows) != args.routines or len(relations) != len(EVENING):
            sys.exit(f"unexpected statistics: {rows!r} {relations!r}")
        _, slow, slow_result = best(through_events, max(1, args.runs // 2))
        if slow_result != result:
            sys.exit("the SQL tally and the Event path disagree")
        verdict = "ok" if fastest <= BUDGET_S else "OVER BUDGET"
        if fastest > BUDGET_S:
            over.append("stats")
        print(f"  {'open + Journal.tally + routine_stats + cramp_relation':<58} "
              f"{fastest * 1000:7.1f} ms (first {first * 1000:.1f} ms)  "
              f"(budget {BUDGET_S * 1000:.0f} ms)  {verdict}")
        print(f"  {'open + events(since) + the same, over Event objects':<58} "
              f"{slow * 1000:7.1f} ms  (for comparison, no budget)")
        for r in relations:  # type: ignore[attr-defined]
            print(f"    {r.routine}: {r.verdict}")

        if has_stats_command():
            env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CRAMPGUARD_")}
            env.update(CRAMPGUARD_CONFIG_DIR=str(base / "config"),
                       CRAMPGUARD_RUNTIME_DIR=str(base / "runtime"),
                       CRAMPGUARD_TIMEZONE="Europe/Berlin")
            argv = [sys.executable, "-m", "scheduler", "stats", "--days", str(args.days)]

            def cli(state: Path) -> Callable[[], str]:
                def run() -> str:
                    proc = subprocess.run(argv, env={**env, "CRAMPGUARD_STATE_DIR": str(state)},
                                          cwd=base, capture_output=True, text=True)
                    if proc.returncode != 0:
                        sys.exit(f"{' '.join(argv[1:])} failed ({proc.returncode}):\n"
                                 f"{proc.stderr}")
                    return proc.stdout
                return run

            first, fastest, out = best(cli(base / "state"), args.runs)
            if not str(out).strip():
                sys.exit(f"{' '.join(argv[1:])} printed nothing")
            verdict = "ok" if fastest <= BUDGET_S else "OVER BUDGET"
            if fastest > BUDGET_S:
                over.append("cli")
            label = "python -m scheduler stats --days " + str(args.days)
            print(f"  {label:<58} {fastest * 1000:7.1f} ms (first {first * 1000:.1f} ms)  "
                  f"(budget {BUDGET_S * 1000:.0f} ms)  {verdict}")
            # Where the CLI's time goes: the same command over an empty journal.
            _, empty, _ = best(cli(base / "empty-state"), args.runs)
            print(f"  {label + ', empty journal':<58} {empty * 1000:7.1f} ms  "
                  "(start-up and routine loading alone, no budget)")
            if os.environ.get("PYTHONDONTWRITEBYTECODE"):
                print("  (PYTHONDONTWRITEBYTECODE is set: every run compiles its modules anew)")
        else:
            print("  python -m scheduler stats: the CLI has no `stats` command yet; skipped")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
