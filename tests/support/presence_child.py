"""A process that runs ``Presence`` and says what it hears, for tests/test_presence.py.

    python -m tests.support.presence_child [--away-after S] [--no-sync]

One JSON line on stdout per event: ``started`` (sources, reports), ``change`` (on_change,
with the state read in the callback and the CLOCK_MONOTONIC instant), ``sleep``
(on_sleep), ``state`` (the answer to the command). Commands on stdin, one a line:
``state``, ``watch on``, ``watch off``, ``away_after SECONDS``, ``quit``. Between events the
process sleeps (its main thread in a read of stdin), so its context switches count what
Presence does and nothing else.

``PresenceChild`` runs it from a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.support.fixtures import ROOT

Event = dict[str, Any]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--away-after", type=float, default=300.0)
    parser.add_argument("--no-sync", action="store_true")
    args = parser.parse_args()

    from scheduler.presence import Presence

    lock = threading.Lock()

    def say(event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, "at": time.monotonic(), **_jsonable(fields)})
        with lock:
            print(line, flush=True)

    presence = Presence(away_after_s=args.away_after, x11_sync=not args.no_sync)
    presence.start(lambda: say("change", state=asdict(presence.state())),
                   lambda going: say("sleep", going=going))
    say("started", sources=presence.sources,
        reports=[asdict(report) for report in presence.reports])
    for line in sys.stdin:
        command, *rest = line.split()
        if command == "state":
            say("state", state=asdict(presence.state()))
        elif command == "watch":
            presence.set_watching(rest == ["on"])
            say("watching", on=rest == ["on"])
        elif command == "away_after":
            presence.set_away_after(float(rest[0]))
            say("away_after", seconds=float(rest[0]))
        elif command == "quit":
            break
    presence.stop()
    say("stopped")


class PresenceChild:
    """The child process, its events as they come, and its context switches."""

    def __init__(self, env: Mapping[str, str], *args: str) -> None:
        self.events: list[Event] = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.presence_child", *args],
            env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.started = self.wait_for("started", timeout=10)

    def __enter__(self) -> PresenceChild:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def state(self) -> dict[str, Any]:
        seen = len(self.events)
        self.send("state")
        return self.wait_for("state", after=seen)["state"]

    def command(self, command: str, answer: str) -> None:
        """Send a command and wait until the child has done it."""
        seen = len(self.events)
        self.send(command)
        self.wait_for(answer, after=seen)

    def wait_for(self, event: str, match: Callable[[Event], bool] = lambda _e: True,
                 after: int = 0, timeout: float = 5.0) -> Event:
        """The first ``event`` from index ``after`` on that ``match`` accepts."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for found in self.events[after:]:
                    if found["event"] == event and match(found):
                        return found
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.proc.poll() is not None:
                    raise AssertionError(
                        f"no {event!r} event within {timeout:g} s; events: {self.events}\n"
                        f"stderr: {self._stderr()}")
                self._cond.wait(remaining)

    def changes(self, after: int = 0) -> list[Event]:
        with self._cond:
            return [e for e in self.events[after:] if e["event"] == "change"]

    def switches(self) -> int:
        """Context switches (voluntary and not) of all the child's threads so far."""
        total = 0
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            for line in (task / "status").read_text().splitlines():
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
        return total

    def thread_count(self) -> int:
        return len(list(Path(f"/proc/{self.proc.pid}/task").iterdir()))

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.events.append(json.loads(line))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _stderr(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return "(still running)"
        return self.proc.stderr.read()


if __name__ == "__main__":
    main()
