"""Whatever a user types on the command line ends in exit 0, 1 or 2 with a message, never a
traceback (issue 8, rule 7).

The commands and their options are read from the parser itself, so a new command or option
is fuzzed without a change here. Each example runs ``main(argv)`` in process against the
private folders of the ``isolated`` fixture, in a scratch working folder (file options get
names inside it only: `init --routines NAME` writes there).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.cli.main import build_parser, main, subcommands

#: Commands not fuzzed: `run` does not return (the daemon; its start is tested in
#: test_daemon), `service` changes the user's session (its start-up entry, the systemd
#: user manager), tested in test_service in a scratch home with a fake systemctl.
NOT_RETURNING = {"run", "service"}
COMMANDS = sorted(set(subcommands(build_parser())) - NOT_RETURNING)
#: Options whose value names a file or folder (by their metavar).
FILE_METAVARS = {"FILE", "DIR", "PATH"}

FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

# Any text a shell can pass: no NUL; bytes that are not UTF-8 arrive as lone surrogates
# (\udc80-\udcff, Python's surrogateescape).
argv_text = st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
    | st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF), max_size=30)
numbers = (st.integers() | st.integers(-(10**40), 10**40)).map(str) | st.sampled_from(
    ["0", "-1", "1", "3660", "3661", "10000", "10001", "9" * 30, "1e5", " 3", "٣", "0x10"])
durations = st.builds(
    lambda n, unit, rest: f"{n}{unit}{rest}", st.integers(-(10**25), 10**25),
    st.sampled_from(["d", "h", "m", "s", "", "x", " d"]),
    st.sampled_from(["", "30m", " 5s", "m"])) | st.sampled_from(
    ["9999999999h", "999999d", "30d", "31d", "720h", "721h", "24h", "1d1s", "0s", "1s"])
instants = (
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: d.isoformat()) |
    st.builds(lambda y, rest: f"{y:04d}{rest}", st.integers(0, 9999),
              st.sampled_from(["-01-01", "-12-31T23:59", "-06-30T12:00+14:00",
                               "-01-01T00:00-23:59", "-02-29", "-13-01"])) |
    st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(-1, 99), st.integers(0, 99)) |
    st.sampled_from(["now", "last night", "until", "24:00", "23:59:59", "9999-12-31T23:59",
                     "0001-01-01T00:00", "1969-12-31T23:59:59Z", "9000-12-31T23:59"]))
any_value = argv_text | numbers | durations | instants
# Relative names only: the scratch folder is the working folder, and these tests run as
# whatever user runs pytest (perhaps root), so an absolute name could land anywhere.
file_names = st.sampled_from(["missing.toml", "missing/", "empty", "junk.toml", "good.toml",
                              "folder", "."]) | argv_text.filter(
    lambda t: t and "/" not in t and not t.startswith(("~", ".")))


def _values(action: argparse.Action) -> st.SearchStrategy[str]:
    if action.metavar in FILE_METAVARS:
        return file_names
    if action.choices:
        return st.sampled_from(sorted(action.choices)) | argv_text
    if action.type is int:
        return numbers | argv_text
    return any_value


def _sometimes(draw: st.DrawFn, action: argparse.Action) -> bool:
    # A file option mostly left out: most values name no file, which ends every run alike.
    return draw(st.integers(0, 4 if action.metavar in FILE_METAVARS else 2)) == 0


@st.composite
def command_lines(draw: st.DrawFn, command: str) -> list[str]:
    parser = subcommands(build_parser())[command]
    argv = [command]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._VersionAction):
            continue  # tested once, in test_cli; here they would end most runs early
        if action.nargs == 0:
            if _sometimes(draw, action):
                argv.append(action.option_strings[0])
            continue
        values = _values(action)
        if action.option_strings:
            if _sometimes(draw, action):
                flag = draw(st.sampled_from(action.option_strings))
                argv += [flag, draw(values)]
        elif action.nargs in ("*", "?"):
            argv += draw(st.lists(values, max_size=3 if action.nargs == "*" else 1))
        else:
            argv.append(draw(values))
    # Now and then a word too many or an option out of place, as typed in a hurry.
    if draw(st.integers(0, 3)) == 0:
        argv.append(draw(any_value | st.sampled_from(["--days", "-n", "--", "-"])))
    return argv


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with a few files the file options may name."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").write_text("", encoding="utf-8")
    (tmp_path / "junk.toml").write_text("[[[\n", encoding="utf-8")
    (tmp_path / "good.toml").write_text("schema_version = 1\n", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    # No notification may reach a real desktop, whatever --notifier says.
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("CRAMPGUARD_NOTIFIER", "console")
    return tmp_path


def run_in_process(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: --help, a bad flag or value
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def test_every_command_is_fuzzed() -> None:
    """Only the daemon itself is left out; the list comes from the parser."""
    assert "next" in COMMANDS and "pause" in COMMANDS and "history" in COMMANDS
    assert set(subcommands(build_parser())) - set(COMMANDS) == NOT_RETURNING


@pytest.mark.parametrize("command", COMMANDS)
@FUZZ
@given(data=st.data())
def test_any_value_ends_in_a_message_not_a_traceback(command: str, data: st.DataObject,
                                                     scratch: Path) -> None:
    argv = data.draw(command_lines(command), label="argv")
    code, out, err = run_in_process(argv)
    assert code in (0, 1, 2), (argv, code, out, err)
    assert "Traceback" not in out + err, (argv, out, err)
    if code:
        assert err.strip(), (argv, "failed without saying why")


@FUZZ
@given(argv=st.lists(any_value | st.sampled_from(COMMANDS), max_size=4))
def test_any_words_at_all(argv: list[str], scratch: Path) -> None:
    code, out, err = run_in_process(argv)
    assert code in (0, 1, 2), (argv, code, out, err)
    assert "Traceback" not in out + err


def test_the_scratch_folder_is_the_only_one_written(scratch: Path) -> None:
    """The guard the fuzzing relies on: a relative --routines lands in the scratch folder."""
    code, _, err = run_in_process(["init", "--routines", "mine"])
    assert code == 0, err
    assert (scratch / "mine").is_dir() and Path.cwd() == scratch
    assert os.path.samefile(Path("mine").resolve().parent, scratch)
