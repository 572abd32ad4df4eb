"""What speaking the user's language costs: the daemon in English and in Chinese.

    .venv/bin/python bench/bench_language.py [--settle 5] [--runs 5]

Runs the real daemon (as bench_daemon.py does: the shipped routines, dunst on Xvfb) with
``LANGUAGE=en`` and with ``LANGUAGE=zh_CN``, the catalog loaded, and prints against the
budgets:

- resident memory of the process tree after settling: zh_CN ≤ English + 1 MiB
- start-up, exec to the "crampguard running" log line (best of ``--runs``): zh_CN ≤
  English + 20 ms
- `crampguard --help` (best of ``--runs``), each language: ≤ 0.3 s

Exit status 1 if a budget is exceeded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_daemon import (  # noqa: E402
    MIB,
    ROOT,
    Desktop,
    Report,
    isolated_env,
    memory,
    start_daemon,
)

LANGUAGES = ("en", "zh_CN")


def daemon_figures(env: dict[str, str], settle: float, runs: int) -> tuple[float, float]:
    """(RSS in MiB after settling, best start-up in ms)."""
    starts, rss = [], 0.0
    for run in range(runs):
        proc, seconds = start_daemon(env)
        starts.append(seconds)
        try:
            if run == runs - 1:
                time.sleep(settle)
                rss = memory(proc.pid)[0] / MIB
        finally:
            proc.terminate()
            proc.wait(5)
    return rss, min(starts) * 1000


def help_ms(env: dict[str, str], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "scheduler", "--help"], env=env, cwd=ROOT,
                       capture_output=True, check=True)
        best = min(best, (time.perf_counter() - start) * 1000)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    report = Report(width=36)
    figures: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp_name, Desktop() as desktop:
        for language in LANGUAGES:
            env = {**desktop.env, **isolated_env(Path(tmp_name) / language),
                   "LANGUAGE": language}
            figures[language] = daemon_figures(env, args.settle, args.runs)
    (rss_en, start_en), (rss_zh, start_zh) = figures["en"], figures["zh_CN"]
    report("daemon RSS, English", rss_en, None, "MiB")
    report("daemon RSS, zh_CN", rss_zh, rss_en + 1, "MiB")
    report("start-up, English (best)", start_en, None, "ms")
    report("start-up, zh_CN (best)", start_zh, start_en + 20, "ms")
    with tempfile.TemporaryDirectory() as tmp_name:
        for language in LANGUAGES:
            env = {**os.environ, **isolated_env(Path(tmp_name)), "LANGUAGE": language}
            report(f"--help, {language} (best)", help_ms(env, args.runs), 300, "ms")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
