"""The Matrix channel through the real daemon, against a real homeserver (Synapse on
loopback) and a real desktop (dunst on Xvfb, the screen locked through a stand-in
screensaver): the reminder due while the user is away reaches the room and the person's
reply is its answer; a reaction on the check-in records the night; another account's
answer is not one; the homeserver down and back; two daemons of the person's in one room.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.daemon_proc import Daemon, clock_in, journal, until
from tests.support.faketime import needs_stepped_clock
from tests.support.mock_services import MockScreenSaver
from tests.support.proxy import Proxy
from tests.support.routines import routine_text
from tests.support.synapse import Room, Synapse, make_room

pytestmark = pytest.mark.slow

CHECKIN_ACTIONS = '["cramps none", "cramps one", "cramps several"]'


def wait_until(check: Callable[[], Any], timeout: float, what: str,
               *daemons: Daemon) -> Any:
    """``until``, saying what did not come and what the daemons logged meanwhile."""
    try:
        return until(check, timeout)
    except AssertionError:
        logs = "\n\n".join(d.log for d in daemons)
        raise AssertionError(f"not within {timeout}s: {what}; the daemons' logs:\n{logs}"
                             ) from None


def channel_table(room: Room, folder: Path, name: str = "phone", token: str | None = None
                  ) -> str:
    token_file = folder / f"{name}-token-{uuid.uuid4().hex[:6]}"
    token_file.write_text((token or room.bot.token) + "\n")
    token_file.chmod(0o600)
    return (f'[reach.{name}]\nkind = "matrix"\nhomeserver = "{room.server.base}"\n'
            f'room = "{room.room_id}"\nuser = "{room.person.user_id}"\n'
            f'token_file = "{token_file}"\n')


def home(base: Path, env: dict[str, str], table: str, routines: Path) -> dict[str, str]:
    """Folders of a daemon's own (config with the channel, state, runtime) and its
    routines, in ``env``."""
    dirs = {"CONFIG": base / "config", "STATE": base / "state", "RUNTIME": base / "run"}
    for folder in dirs.values():
        folder.mkdir(parents=True, exist_ok=True)
    (dirs["CONFIG"] / "config.toml").write_text(table)
    return {**env, **{f"CRAMPGUARD_{k}_DIR": str(v) for k, v in dirs.items()},
            "CRAMPGUARD_ROUTINES": str(routines)}


def reminders_in(room: Room) -> list[dict[str, Any]]:
    return room.person.reminders(room.room_id)


def entries(routine: str, env: dict[str, str]) -> list[dict[str, Any]]:
    """The routine's journal entries in the daemon's journal."""
    return journal(routine, env=env)


def kinds(routine: str, env: dict[str, str]) -> list[str]:
    return [e["kind"] for e in entries(routine, env)]


@pytest.fixture
def room(synapse: Synapse) -> Room:
    return make_room(synapse, uuid.uuid4().hex[:8])


@pytest.fixture
def base_env(desktop) -> dict[str, str]:
    return {**desktop.env, "CRAMPGUARD_NOTIFIER": "dbus",
            "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"}


def away_routine(title: str, seconds: float, notify: str = "") -> str:
    return routine_text(title, clock_in(seconds),
                        notify=f'[notify]\nreach = "away"\n{notify}')


def locked_daemon(daemon: Daemon, screensaver: MockScreenSaver) -> None:
    daemon.start()
    daemon.wait_for(r"presence: .*screensaver")
    daemon.wait_for(r"reach phone: matrix")
    screensaver.set_active(True)


@pytest.mark.desktop
def test_away_the_reminder_reaches_the_room_and_a_reply_done_answers_it(
        room, routines, screensaver, desktop, base_env, tmp_path):
    env = home(tmp_path / "me", base_env, channel_table(room, tmp_path), routines)
    (routines / "soak.toml").write_text(away_routine("Soak", 4))
    with Daemon(env) as daemon:
        locked_daemon(daemon, screensaver)
        [message] = wait_until(lambda: reminders_in(room), 15, "the reminder in the room")
        assert "Soak" in message["content"]["body"]
        daemon.wait_for(r"delivered soak via reach:phone")
        answered = time.monotonic()
        room.person.reply(room.room_id, message["event_id"], "done")
        wait_until(lambda: "done" in kinds("soak", env), 10, "done in the journal")
        assert time.monotonic() - answered <= 5
        # Back at the desk: the reminder answered on the phone is never shown here.
        screensaver.activity()
        screensaver.set_active(False)
        time.sleep(1)  # nothing to wait on: a notice that must not come
        assert desktop.shown() == 0
        assert daemon.stop() == 0
    assert desktop.history() == []
    told = entries("soak", env)
    assert [e["kind"] for e in told].count("done") == 1
    assert [e["backend"] for e in told if e["kind"] == "delivered"] == ["reach:phone"]
    assert room.bot.token not in daemon.log


@pytest.mark.desktop
def test_an_answer_in_the_room_takes_the_desktop_notice_down(
        room, routines, desktop, base_env, tmp_path):
    env = home(tmp_path / "me", base_env, channel_table(room, tmp_path), routines)
    (routines / "soak.toml").write_text(routine_text(
        "Soak", clock_in(3), notify='[notify]\nreach = "always"\ntimeout = "0s"\n'))
    with Daemon(env) as daemon:
        daemon.start()
        daemon.wait_for(r"delivered soak via dbus", timeout=10)
        [message] = wait_until(lambda: reminders_in(room), 15, "the reminder in the room")
        assert desktop.shown() == 1
        room.person.react(room.room_id, message["event_id"], "✅")
        wait_until(lambda: desktop.shown() == 0, 5, "the desktop notice withdrawn")
        wait_until(lambda: "done" in kinds("soak", env), 5, "done in the journal")
        assert daemon.stop() == 0


@pytest.mark.desktop
def test_a_reaction_on_the_checkin_records_the_night(
        room, routines, screensaver, desktop, base_env, tmp_path):
    env = home(tmp_path / "me", base_env, channel_table(room, tmp_path), routines)
    (routines / "checkin.toml").write_text(away_routine(
        "Checkin", 4, f"actions = {CHECKIN_ACTIONS}\n"))
    with Daemon(env) as daemon:
        locked_daemon(daemon, screensaver)
        [message] = wait_until(lambda: reminders_in(room), 15, "the check-in in the room")
        assert "0️⃣ none" in message["content"]["body"]
        room.person.react(room.room_id, message["event_id"], "1️⃣")
        daemon.wait_for(r"night of \S+: one \(check-in\)", timeout=10)
        assert daemon.stop() == 0
    assert "done" in kinds("checkin", env)


@pytest.mark.desktop
def test_another_accounts_answer_is_not_one(room, routines, screensaver, desktop, base_env,
                                            tmp_path):
    env = home(tmp_path / "me", base_env, channel_table(room, tmp_path), routines)
    (routines / "soak.toml").write_text(away_routine("Soak", 4))
    with Daemon(env) as daemon:
        locked_daemon(daemon, screensaver)
        [message] = wait_until(lambda: reminders_in(room), 15, "the reminder in the room")
        daemon.wait_for(r"delivered soak via reach:phone")
        room.stranger.reply(room.room_id, message["event_id"], "done")
        room.stranger.react(room.room_id, message["event_id"], "✅")
        daemon.wait_for(r"ignored m.reaction from " + room.stranger.user_id, timeout=10)
        room.person.reply(room.room_id, message["event_id"], "skip")
        daemon.wait_for(r"skipped soak", timeout=10)
        assert daemon.stop() == 0
    assert "done" not in kinds("soak", env)


@pytest.mark.desktop
def test_the_homeserver_down_then_back_within_catch_up(routines, screensaver, desktop,
                                                       base_env, tmp_path):
    with Synapse(tmp_path / "hs") as server:
        room = make_room(server, "down")
        env = home(tmp_path / "me", base_env, channel_table(room, tmp_path), routines)
        (routines / "soak.toml").write_text(away_routine("Soak", 4))
        with Daemon(env) as daemon:
            locked_daemon(daemon, screensaver)
            server.stop()
            daemon.wait_for(r"reach:phone: could not send soak@", timeout=15)
            server.start()
            daemon.wait_for(r"delivered soak via reach:phone", timeout=30)
            [message] = reminders_in(room)
            room.person.reply(room.room_id, message["event_id"], "done")
            daemon.wait_for(r"INFO done soak", timeout=60)  # the listener's back-off too
            assert daemon.stop() == 0
        assert kinds("soak", env).count("delivered") == 1


@pytest.mark.desktop
def test_the_homeserver_down_past_catch_up_is_recorded_failed(routines, screensaver, desktop,
                                                              base_env, tmp_path):
    with Synapse(tmp_path / "hs") as server:
        room = make_room(server, "gone")
        env = home(tmp_path / "me", base_env, channel_table(room, tmp_path), routines)
        (routines / "soak.toml").write_text(away_routine("Soak", 4).replace(
            'quiet_hours = "ignore"', 'quiet_hours = "ignore"\ncatch_up = "3s"'))
        with Daemon(env) as daemon:
            locked_daemon(daemon, screensaver)
            server.stop()
            daemon.wait_for(r"reach:phone: could not send soak@", timeout=15)
            wait_until(lambda: "failed" in kinds("soak", env), 20, "failed in the journal", daemon)
            server.start()
            time.sleep(1)  # nothing to wait on: a message that must not come
            assert daemon.stop() == 0
        assert reminders_in(room) == []
        [failed] = [e for e in entries("soak", env) if e["kind"] == "failed"]
        assert "127.0.0.1" in json.dumps(failed)


@pytest.mark.desktop
def test_two_daemons_one_room_one_message_both_journals_answered(
        room, routines, screensaver, desktop, base_env, tmp_path):
    text = away_routine("Soak", 5)
    for name in ("laptop", "desktop"):
        (routines / name).mkdir()
        (routines / name / "soak.toml").write_text(text)
    laptop_env = home(tmp_path / "laptop", base_env, channel_table(room, tmp_path),
                      routines / "laptop")
    desktop_env = home(tmp_path / "desktop", base_env,
                       channel_table(room, tmp_path, token=room.bot.login().token),
                       routines / "desktop")
    with Daemon(laptop_env) as laptop, Daemon(desktop_env) as other:
        laptop.start()
        other.start()
        for daemon in (laptop, other):
            daemon.wait_for(r"presence: .*screensaver")
            daemon.wait_for(r"reach phone: matrix")
        screensaver.set_active(True)
        wait_until(lambda: all("delivered" in kinds("soak", e)
                               for e in (laptop_env, desktop_env)), 20,
                   "delivered in both journals", laptop, other)
        up = reminders_in(room)
        assert len(up) == 1, (up, laptop.log, other.log)
        [message] = up
        room.person.reply(room.room_id, message["event_id"], "done")
        wait_until(lambda: all("done" in kinds("soak", e) for e in (laptop_env, desktop_env)),
                   10, "done in both journals", laptop, other)
        assert laptop.stop() == 0 and other.stop() == 0
    assert len(reminders_in(room)) == 1


@needs_stepped_clock
def test_after_a_sleep_answers_given_meanwhile_are_read_at_once(room, routines, stepped,
                                                                tmp_path):
    """While the computer slept the server dropped the connection of the long poll under
    way, which would hang until its timeout minutes later: the resume (the wall clock jumps
    ahead) ends it, and the answer given meanwhile is read at once."""
    proxy = Proxy(room.server.port)
    table = channel_table(room, tmp_path).replace(room.server.base,
                                                  f"http://127.0.0.1:{proxy.port}")
    (routines / "soak.toml").write_text(routine_text(
        "Soak", clock_in(3), notify='[notify]\nreach = "always"\n'))
    env = {**home(tmp_path / "me", stepped.env(), table, routines),
           "CRAMPGUARD_NOTIFIER": "console"}
    try:
        with Daemon(env) as daemon:
            daemon.start()
            daemon.wait_for(r"soak due .* sent via reach:phone", timeout=15)
            [message] = reminders_in(room)
            time.sleep(1)  # the next long poll is under way (nothing to wait on from here)
            proxy.freeze()  # the computer sleeps: that connection is dead from now on
            room.person.reply(room.room_id, message["event_id"], "done")
            time.sleep(1)  # nothing to wait on: an answer that cannot arrive yet
            assert daemon.count(r"INFO done soak") == 0, daemon.log
            stepped.step("+60")
            daemon.wait_for(r"wall clock jumped \+60s", timeout=12)
            daemon.wait_for(r"INFO done soak", timeout=3)
            assert daemon.stop() == 0
    finally:
        proxy.close()
