"""The real daemon as a subprocess, with its log read as it comes.

``Daemon(tmp_path, env).start("--routines", dir)`` runs ``python -m scheduler run``; the
log lines (stderr) and console lines (stdout) are collected by reader threads, and
``wait_for`` waits for a regex in them. Routine files for it: ``tests.support.routines``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.support.fixtures import ROOT
from tests.support.fixtures import ZONE as ZONE_NAME

ZONE = ZoneInfo(ZONE_NAME)


def clock_in(seconds: float) -> str:
    """The Berlin wall time ``seconds`` from now, as HH:MM:SS for a routine's ``at``."""
    return (datetime.now(ZONE) + timedelta(seconds=seconds)).strftime("%H:%M:%S")


def cli(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """One run of the real CLI (``python -m scheduler ARGS``) from the source tree."""
    return subprocess.run([sys.executable, "-m", "scheduler", *args], capture_output=True,
                          text=True, timeout=20, cwd=ROOT,
                          env={**(env or os.environ), "PYTHONPATH": str(ROOT)})


def cli_json(*args: str, env: Mapping[str, str] | None = None) -> Any:
    """``cli(ARGS --json)``, which must succeed, parsed."""
    result = cli(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def journal(routine: str, *args: str, env: Mapping[str, str] | None = None
            ) -> list[dict[str, Any]]:
    """The routine's entries in `history` (``args``: e.g. "--days", "30"), oldest first,
    the order a reminder's life is told in."""
    return list(reversed(cli_json("history", "--routine", routine, *args, env=env)))


def kinds(routine: str, env: Mapping[str, str] | None = None) -> list[str]:
    """The kinds of the routine's journal entries, oldest first."""
    return [event["kind"] for event in journal(routine, env=env)]


def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``check`` until it returns something true (and return that), or fail at the
    deadline."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {check}")
        time.sleep(0.1)


def write_settings(config_file: Path, text: str) -> None:
    """``config.toml`` with ``text`` after its schema_version (the folder made)."""
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("schema_version = 1\n" + text)


def write_atomically(path: Path, text: str) -> None:
    """As editors save: a temp file renamed over the target."""
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


class Daemon:
    def __init__(self, env: Mapping[str, str] | None = None, prefix: list[str] | None = None):
        self.env = dict(os.environ if env is None else env)
        self.env.setdefault("PYTHONPATH", str(ROOT))
        self.prefix = prefix or []
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self._cond = threading.Condition()

    def start(self, *args: str) -> Daemon:
        self.proc = subprocess.Popen(
            [*self.prefix, sys.executable, "-m", "scheduler", *args, "run"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=ROOT,
        )
        self._readers = [threading.Thread(target=self._read, args=(stream,), daemon=True)
                         for stream in (self.proc.stdout, self.proc.stderr)]
        for reader in self._readers:
            reader.start()
        return self

    def _close(self) -> None:
        assert self.proc is not None
        for reader in self._readers:
            reader.join(timeout=2)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def _read(self, stream) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_for(self, pattern: str, timeout: float = 10.0, *, after: int = 0) -> re.Match[str]:
        """The first log line (from index ``after``) matching ``pattern``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[after:]:
                    m = regex.search(line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no line matching {pattern!r} within {timeout}s; log:\n" + self.log)
                self._cond.wait(left)

    def count(self, pattern: str) -> int:
        with self._cond:
            return sum(bool(re.search(pattern, line)) for line in self.lines)

    @property
    def log(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def mark(self) -> int:
        with self._cond:
            return len(self.lines)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 10.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            # Where is it stuck? The daemon dumps every thread's stack on SIGUSR1.
            self.proc.send_signal(signal.SIGUSR1)
            time.sleep(1)
            self.proc.kill()
            self.proc.wait()
            self._close()
            raise AssertionError(f"the daemon did not stop within {timeout:g} s after "
                                 f"SIGTERM; its log and stacks:\n{self.log}") from None
        finally:
            self._close()

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()
