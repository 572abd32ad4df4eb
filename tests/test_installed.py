"""The installed program, end to end: build the wheel (offline), install it into a bare
folder, and run it as a user would, from somewhere else, with the source tree out of reach.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scheduler import __version__
from tests.support.fixtures import ROOT, SEEDS, SHIPPED_ROUTINES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "-w", str(out), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    (built,) = out.glob("crampguard-*.whl")
    return built


@pytest.fixture(scope="module")
def target(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
         "--target", str(folder), str(wheel)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    return folder


@pytest.fixture
def crampguard(target: Path, tmp_path: Path):
    """Run the installed program from an empty folder, with only TARGET on PYTHONPATH.

    The isolated CRAMPGUARD_* folders of the autouse fixture are inherited.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(target)
    env["PYTHONSAFEPATH"] = "1"  # the working directory is not put on sys.path
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()

    def _run(*args: str, module: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "scheduler", *args] if module else list(args)
        return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=120)

    return _run


def test_the_wheel_carries_the_shipped_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in SHIPPED_ROUTINES.glob("*.toml"):
        assert f"scheduler/_shipped/routines/{path.name}" in names
    for path in [*SEEDS.glob("*.txt"), SEEDS / "catalog.toml"]:
        assert f"scheduler/_shipped/seeds/{path.name}" in names
    assert "scheduler/templates/config.toml" in names
    # the compiled catalog: no msgfmt needed where it is installed
    assert "scheduler/locale/zh_CN/LC_MESSAGES/crampguard.mo" in names
    assert not any(n.startswith(("tests/", "bench/")) for n in names)


def test_the_installed_package_is_the_one_imported(crampguard, target: Path) -> None:
    code = ("import scheduler, scheduler.paths as p; print(scheduler.__file__); "
            "print(p.shipped_dir('routines')); print(p.shipped_dir('seeds'))")
    proc = crampguard(sys.executable, "-c", code, module=False)
    assert proc.returncode == 0, proc.stderr
    module, routines, seeds = (Path(line) for line in proc.stdout.splitlines())
    assert module.resolve().is_relative_to(target.resolve())
    assert routines.resolve() == (target / "scheduler" / "_shipped" / "routines").resolve()
    assert seeds.resolve() == (target / "scheduler" / "_shipped" / "seeds").resolve()
    for path in SHIPPED_ROUTINES.glob("*.toml"):
        assert (routines / path.name).read_bytes() == path.read_bytes()
    assert (seeds / "catalog.toml").read_bytes() == (SEEDS / "catalog.toml").read_bytes()


def test_check(crampguard) -> None:
    proc = crampguard("check")
    assert proc.returncode == 0, proc.stderr
    n = len(list(SHIPPED_ROUTINES.glob("*.toml")))
    assert proc.stdout.startswith(f"ok: {n} file(s), {n} routine(s), ")
    assert proc.stderr == ""


def test_list_reads_the_packaged_routines(crampguard, target: Path) -> None:
    proc = crampguard("list", "--json")
    assert proc.returncode == 0, proc.stderr
    sources = {Path(row["source"]).resolve() for row in json.loads(proc.stdout)}
    shipped = (target / "scheduler" / "_shipped" / "routines").resolve()
    assert sources and all(s.parent == shipped for s in sources)


def test_next_json(crampguard) -> None:
    proc = crampguard("next", "--count", "3", "--from", "2026-11-23T08:00",
                      "--tz", "Europe/Berlin", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [(i["routine"], i["at"]) for i in json.loads(proc.stdout)] == [
        ("sitting-break", "2026-11-23T09:50:00+01:00"),
        ("sitting-break", "2026-11-23T10:40:00+01:00"),
        ("sitting-break", "2026-11-23T11:30:00+01:00"),
    ]


def test_bad_input_exits_1_without_a_traceback(crampguard, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('schema_version = 1\ntitle = "T"\nmessage = "M"\n'
                   '[schedule]\nat = "25:00"\n', encoding="utf-8")
    proc = crampguard("check", str(bad))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"{bad}:5: schedule.at:")
    assert "Traceback" not in proc.stderr


def test_console_script(crampguard, target: Path) -> None:
    script = target / "bin" / "crampguard"
    assert script.is_file()
    proc = crampguard(str(script), "next", "-n", "1", "--from", "2026-11-23T20:00",
                      "--routine", "foot-soak", module=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ("Mon 2026-11-23 21:45:00 +0100  foot-soak              "
                           "Warm foot soak before bed\n")
    proc = crampguard(str(script), "--version", module=False)
    assert proc.stdout.strip() == f"crampguard {__version__}"


def test_help(crampguard) -> None:
    proc = crampguard("--help")
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: crampguard")


@pytest.fixture
def chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE", "zh_CN")


def test_the_installed_program_speaks_chinese(chinese, crampguard) -> None:
    assert crampguard("--help").stdout.startswith("用法：crampguard")
