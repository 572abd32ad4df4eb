"""The Matrix channel against a real homeserver (Synapse on loopback): a reminder posted in
the room, the person's reply or reaction heard as the answer, anyone else's ignored, the
answers given while the computer slept read after it, two daemons posting one message, the
answer given elsewhere said in the room, `doctor`'s checks; and what an event means, pure.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scheduler.config.reach import ReachMatrix
from scheduler.reach.base import Answer, ChannelDown, ChannelError, Message
from scheduler.reach.matrix import MatrixChannel, answer_key, spoken
from tests.support.daemon_proc import cli
from tests.support.proxy import Proxy
from tests.support.synapse import Room, Synapse, make_room

pytestmark = pytest.mark.slow

DUE = datetime(2026, 3, 29, 19, 45, tzinfo=UTC)
ANSWERS = (("done", "Done"), ("snooze:10m", "Snooze 10 min"), ("skip", "Skip"))
CHECKIN = (("cramps:none", "No cramps"), ("cramps:one", "One cramp"),
           ("cramps:several", "Several"))


def reminder(routine: str = "foot-soak", answers: Any = ANSWERS, due: datetime = DUE
             ) -> Message:
    return Message(routine=routine, due=due, title="Warm foot soak",
                   body="Soak your feet in warm water for 15 minutes.", answers=answers)


def token_file(folder: Path, token: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"token-{uuid.uuid4().hex[:6]}"
    path.write_text(token + "\n")
    path.chmod(0o600)
    return path


def open_channel(room: Room, folder: Path, token: str | None = None,
                 name: str = "phone") -> MatrixChannel:
    settings = ReachMatrix(kind="matrix", homeserver=room.server.base, room=room.room_id,
                           user=room.person.user_id,
                           token_file=str(token_file(folder, token or room.bot.token)))
    return MatrixChannel(name, settings, folder)


def listen(channel: MatrixChannel, since: str | None, want: int = 1, within: float = 10.0
           ) -> tuple[list[Answer], str | None]:
    """The answers heard until ``want`` of them came (or ``within`` seconds passed)."""
    heard: list[Answer] = []
    deadline = time.monotonic() + within
    while len(heard) < want and time.monotonic() < deadline:
        found, since = channel.answers(since, min(2.0, max(0.1, deadline - time.monotonic())))
        heard += found
    return heard, since


@pytest.fixture
def room(synapse: Synapse) -> Room:
    return make_room(synapse, uuid.uuid4().hex[:8])


@pytest.fixture
def channel(room: Room, tmp_path: Path) -> Any:
    opened = open_channel(room, tmp_path)
    yield opened
    opened.close()


def test_a_reminder_is_a_message_mentioning_the_person_with_its_key(room, channel):
    event_id = channel.send(reminder())
    [message] = room.person.reminders(room.room_id)
    assert message["event_id"] == event_id
    assert message["sender"] == room.bot.user_id
    content = message["content"]
    assert content["org.crampguard.reminder"] == "foot-soak@2026-03-29T19:45:00Z"
    assert content["org.crampguard.answers"] == ["done", "snooze:10m", "skip"]
    assert "Warm foot soak" in content["body"] and "Soak your feet" in content["body"]
    assert "✅ done" in content["body"] and "💤 snooze" in content["body"]
    assert "⏭️ skip" in content["body"]
    assert content["m.mentions"] == {"user_ids": [room.person.user_id]}


def test_the_persons_reply_done_is_the_answer(room, channel):
    _, since = channel.answers(None, 0)
    event_id = channel.send(reminder())
    reply = room.person.reply(room.room_id, event_id, "Done!", fallback="Warm foot soak")
    [answer], _ = listen(channel, since)
    assert (answer.routine, answer.due, answer.key) == ("foot-soak", DUE, "done")
    assert (answer.channel, answer.sender, answer.ref) == ("phone", room.person.user_id, reply)
    assert abs((answer.at - datetime.now(UTC)).total_seconds()) < 60


def test_replies_name_snooze_with_its_duration_and_skip(room, channel):
    _, since = channel.answers(None, 0)
    first = channel.send(reminder("soak"))
    second = channel.send(reminder("stretch"))
    room.person.reply(room.room_id, first, "snooze 20m please")
    room.person.reply(room.room_id, second, "skip")
    heard, _ = listen(channel, since, want=2)
    assert [(a.routine, a.key) for a in heard] == [("soak", "snooze:20m"), ("stretch", "skip")]


def test_reactions_answer_and_the_checkin_night(room, channel):
    _, since = channel.answers(None, 0)
    soak = channel.send(reminder("soak"))
    checkin = channel.send(reminder("checkin", CHECKIN))
    room.person.react(room.room_id, soak, "✅")
    room.person.react(room.room_id, checkin, "1️⃣")
    heard, _ = listen(channel, since, want=2)
    assert [(a.routine, a.key) for a in heard] == [("soak", "done"), ("checkin", "cramps:one")]


def test_a_bare_answer_is_for_the_latest_reminder(room, channel):
    _, since = channel.answers(None, 0)
    channel.send(reminder("soak"))
    channel.send(reminder("checkin", CHECKIN))
    room.person.say(room.room_id, "one cramp, the left calf, around three")  # a sentence
    room.person.say(room.room_id, "several")
    [answer], _ = listen(channel, since)
    assert (answer.routine, answer.key) == ("checkin", "cramps:several")


def test_only_the_person_answers(room, channel, caplog):
    caplog.set_level(logging.INFO, logger="crampguard")
    _, since = channel.answers(None, 0)
    event_id = channel.send(reminder())
    room.stranger.reply(room.room_id, event_id, "done")
    room.stranger.react(room.room_id, event_id, "✅")
    room.bot.reply(room.room_id, event_id, "done")  # crampguard's own account
    room.person.say(room.room_id, "hello")
    room.person.reply(room.room_id, event_id, "skip")
    heard, _ = listen(channel, since)
    assert [(a.sender, a.key) for a in heard] == [(room.person.user_id, "skip")]
    ignored = [r.getMessage() for r in caplog.records if "ignored" in r.getMessage()]
    assert len(ignored) == 2 and all(room.stranger.user_id in line for line in ignored)
    assert room.bot.token not in caplog.text


def test_an_answer_to_something_the_reminder_does_not_offer_is_no_answer(room, channel):
    _, since = channel.answers(None, 0)
    event_id = channel.send(reminder(answers=(("done", "Done"),)))
    room.person.react(room.room_id, event_id, "💤")
    room.person.reply(room.room_id, event_id, "several")
    room.person.reply(room.room_id, event_id, "skip")  # as `crampguard skip` takes any
    heard, _ = listen(channel, since)
    assert [a.key for a in heard] == ["skip"]


def test_answers_given_while_away_are_read_from_the_cursor(room, tmp_path):
    first = open_channel(room, tmp_path)
    _, since = first.answers(None, 0)
    event_id = first.send(reminder())
    first.close()
    # The computer sleeps: the person answers, and the room goes on past one sync's worth.
    room.person.react(room.room_id, event_id, "✅")
    for n in range(60):
        room.stranger.say(room.room_id, f"chatter {n}")
    later = open_channel(room, tmp_path)
    try:
        heard, _ = listen(later, since)
    finally:
        later.close()
    assert [(a.routine, a.key) for a in heard] == [("foot-soak", "done")]


def test_two_daemons_post_a_reminder_once_and_both_hear_the_answer(room, tmp_path):
    laptop = open_channel(room, tmp_path / "laptop")
    desktop = open_channel(room, tmp_path / "desktop", token=room.bot.login().token)
    try:
        _, laptop_since = laptop.answers(None, 0)
        _, desktop_since = desktop.answers(None, 0)
        # one posts, the other sees it there
        assert laptop.already_sent(reminder()) is None
        posted = laptop.send(reminder())
        assert desktop.already_sent(reminder()) == posted
        # both post at the same moment (neither saw the other's): the later message goes
        both = [laptop.send(reminder("stretch")), desktop.send(reminder("stretch"))]
        assert both[0] == both[1]
        assert [e["content"]["org.crampguard.reminder"]
                for e in room.person.reminders(room.room_id)] == [
            "foot-soak@2026-03-29T19:45:00Z", "stretch@2026-03-29T19:45:00Z"]
        room.person.reply(room.room_id, both[0], "done")
        for channel, since in ((laptop, laptop_since), (desktop, desktop_since)):
            heard, _ = listen(channel, since)
            assert [(a.routine, a.key) for a in heard] == [("stretch", "done")]
    finally:
        laptop.close()
        desktop.close()


def test_a_reminder_answered_elsewhere_says_so_in_the_room(room, channel):
    event_id = channel.send(reminder())
    channel.withdraw(event_id, "Done on the desktop")
    last = room.person.messages(room.room_id)[-1]
    assert last["content"]["body"] == "Done on the desktop"
    assert last["content"]["msgtype"] == "m.notice"  # no second ring on the phone
    assert last["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == event_id


def test_a_test_message_carries_no_key(room, channel):
    channel.send(Message(routine="notify-test", due=DUE, title="crampguard", body="test",
                         answers=ANSWERS, test=True))
    assert room.person.reminders(room.room_id) == []
    assert room.person.messages(room.room_id)[-1]["content"]["body"].endswith("test")


def test_doctors_checks_send_nothing(room, channel, tmp_path, synapse):
    before = len(room.person.messages(room.room_id))
    assert channel.check() == []
    # a room the bot is not in, and the person not in it
    other = room.stranger.create_room()
    settings = channel.settings.model_copy(update={"room": other})
    problems = MatrixChannel("phone", settings, tmp_path).check()
    assert len(problems) == 1 and "is not in the room" in problems[0]
    # a refused token: said, never shown
    bad = open_channel(room, tmp_path, token="syt_not_a_token")
    [problem] = bad.check()
    assert "token" in problem and "syt_not_a_token" not in problem
    assert len(room.person.messages(room.room_id)) == before


def test_a_token_file_others_can_read_is_refused(room, tmp_path):
    leaky = open_channel(room, tmp_path)
    leaky.settings.token_file.chmod(0o644)
    with pytest.raises(ChannelError, match=r"chmod 600"):
        leaky.send(reminder())
    assert room.bot.token not in str(leaky.check())


def test_close_ends_a_long_poll_at_once(room, channel):
    _, since = channel.answers(None, 0)
    ended = threading.Event()

    def poll() -> None:
        try:
            channel.answers(since, 30)
        except ChannelDown:
            pass
        ended.set()

    threading.Thread(target=poll, daemon=True).start()
    time.sleep(0.3)  # let the request reach the server (nothing to wait on from here)
    channel.close()
    assert ended.wait(2)


def test_waking_from_sleep_ends_the_poll_under_way_and_polls_again(room, channel):
    """After a sleep the poll under way may hang on a connection the server dropped: the
    daemon's wake ends it without an error (no back-off), and the next poll reads what
    was said meanwhile."""
    event_id = channel.send(reminder())
    _, since = channel.answers(None, 0)
    returned: list[Any] = []
    poll = threading.Thread(target=lambda: returned.append(channel.answers(since, 50)))
    poll.start()
    time.sleep(0.3)  # let the request reach the server (nothing to wait on from here)
    channel.wake()
    poll.join(2)
    assert returned == [([], since)]
    room.person.reply(room.room_id, event_id, "done")
    heard, _ = listen(channel, since)
    assert [a.key for a in heard] == ["done"]


def test_a_proxy_that_ends_long_waits_is_met_with_shorter_ones(room, channel, monkeypatch):
    """A proxy in front of the homeserver that cuts a wait short (nginx's 60 s) is not the
    homeserver down: the channel waits only as long as the daemon asks from then on."""
    from scheduler.reach import matrix

    proxy = Proxy(room.server.port, cut_after=1.0)
    monkeypatch.setattr(matrix, "LONG_POLL_S", 30.0)
    channel._parts = channel._parts._replace(netloc=f"127.0.0.1:{proxy.port}")
    _, since = channel.answers(None, 0)
    began = time.monotonic()
    assert channel.answers(since, 0.5) == ([], since)  # cut after 1 s: no error
    assert time.monotonic() - began < 5
    began = time.monotonic()
    assert channel.answers(since, 0.5) == ([], since)  # now waits 0.5 s, uncut
    assert time.monotonic() - began < 1.0
    proxy.close()


def test_the_homeserver_down_then_back(tmp_path):
    with Synapse(tmp_path / "hs") as server:
        room = make_room(server, "down")
        channel = open_channel(room, tmp_path)
        _, since = channel.answers(None, 0)
        server.stop()
        with pytest.raises(ChannelDown, match="127.0.0.1"):
            channel.send(reminder())
        with pytest.raises(ChannelDown):
            channel.answers(since, 1)
        server.start()
        event_id = channel.send(reminder())
        room.person.reply(room.room_id, event_id, "done")
        heard, _ = listen(channel, since)
        assert [a.key for a in heard] == ["done"]
        channel.close()


# --- what an event means (pure) -------------------------------------------------------------


def _reply(body: str, to: str | None = "$r") -> dict[str, Any]:
    content: dict[str, Any] = {"msgtype": "m.text", "body": body}
    if to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": to}}
    return {"type": "m.room.message", "content": content}


def _reaction(key: str) -> dict[str, Any]:
    return {"type": "m.reaction",
            "content": {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$r",
                                         "key": key}}}


@pytest.mark.parametrize(("event", "said"), [
    (_reply("Done"), ("done", "$r")),
    (_reply("> <@crampguard:x> Warm foot soak\n> quoted\n\nskip it"), ("skip", "$r")),
    (_reply("snooze 15m"), ("snooze:15m", "$r")),
    (_reply("snooze, please"), ("snooze", "$r")),
    (_reply("0"), ("cramps:none", "$r")),
    (_reply("3"), ("cramps:several", "$r")),
    (_reply("maybe later"), (None, "$r")),
    (_reply("done", to=None), ("done", None)),
    (_reply("done with the soak, now the stretch", to=None), (None, None)),
    (_reaction("✅"), ("done", "$r")),
    (_reaction("⏭️"), ("skip", "$r")),
    (_reaction("⏭"), ("skip", "$r")),
    (_reaction("0️⃣"), ("cramps:none", "$r")),
    (_reaction("2️⃣"), ("cramps:several", "$r")),
    (_reaction("🎉"), (None, "$r")),
    ({"type": "m.room.message", "content": {"body": "done", "m.relates_to": {
        "rel_type": "m.replace", "event_id": "$x"}}}, (None, None)),
    ({"type": "m.room.member", "content": {}}, (None, None)),
])
def test_what_an_event_says(event, said):
    assert spoken(event) == said


@pytest.mark.parametrize(("said", "offered", "key"), [
    ("snooze", ("done", "snooze:10m"), "snooze:10m"),
    ("snooze:20m", ("done", "snooze:10m"), "snooze:20m"),
    ("snooze", ("done",), None),
    ("cramps:one", ("cramps:none", "cramps:1"), "cramps:1"),
    ("done", ("cramps:none",), "done"),
    ("skip", ("done", "snooze:10m"), "skip"),
    ("cramps:none", ("done", "snooze:10m"), None),
])
def test_what_an_answer_names_among_the_offered(said, offered, key):
    assert answer_key(said, offered) == key


def test_tls_is_verified(tmp_path, monkeypatch):
    """A homeserver whose certificate no one vouches for is refused; trusted (as a system
    that has its authority installed would), it is the same channel."""
    from scheduler.reach import matrix

    monkeypatch.setattr(matrix, "_CONTEXT", None)
    with Synapse(tmp_path / "hs", tls=True) as server:
        room = make_room(server, "tls")
        channel = open_channel(room, tmp_path)
        [problem] = channel.check()
        assert "CERTIFICATE_VERIFY_FAILED" in problem or "certificate verify" in problem
        with pytest.raises(ChannelError):
            channel.send(reminder())
        assert room.person.reminders(room.room_id) == []
        monkeypatch.setenv("SSL_CERT_FILE", str(server.certificate))
        monkeypatch.setattr(matrix, "_CONTEXT", None)  # as a process started now would
        assert channel.check() == []
        channel.send(reminder())
        assert len(room.person.reminders(room.room_id)) == 1
        # the authorities as a hashed folder (as Debian keeps /etc/ssl/certs): read from it
        folder = tmp_path / "certs"
        folder.mkdir()
        digest = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in",
                                 str(server.certificate)], capture_output=True, text=True,
                                check=True).stdout.strip()
        (folder / f"{digest}.0").write_bytes(server.certificate.read_bytes())
        monkeypatch.delenv("SSL_CERT_FILE")
        monkeypatch.setenv("SSL_CERT_DIR", str(folder))
        monkeypatch.setattr(matrix, "_CONTEXT", None)
        assert channel.check() == []
        (folder / f"{digest}.0").unlink()
        monkeypatch.setattr(matrix, "_CONTEXT", None)
        assert channel.check() != []


# --- the real command line: doctor and notify-test ------------------------------------------


def _configure(room: Room, isolated: Any, tmp_path: Path, token: str | None = None) -> Path:
    path = token_file(tmp_path, token or room.bot.token)
    isolated.config.mkdir(parents=True, exist_ok=True)
    isolated.config_file.write_text(
        f'[reach.phone]\nkind = "matrix"\nhomeserver = "{room.server.base}"\n'
        f'room = "{room.room_id}"\nuser = "{room.person.user_id}"\n'
        f'token_file = "{path}"\n')
    return path


def test_doctor_checks_the_channel_and_sends_nothing(room, isolated, tmp_path):
    path = _configure(room, isolated, tmp_path)
    before = len(room.person.messages(room.room_id))
    result = cli("doctor", "--json")
    report = json.loads(result.stdout)
    [phone] = report["channels"]
    assert (phone["name"], phone["kind"], phone["problems"]) == ("phone", "matrix", [])
    assert room.bot.token not in result.stdout + result.stderr
    # the bot signed out: said, and the token never shown
    room.bot.call("POST", "/_matrix/client/v3/logout", {})
    result = cli("doctor")
    assert "reach phone:" in result.stdout + result.stderr
    assert "token" in result.stdout + result.stderr
    assert room.bot.token not in result.stdout + result.stderr
    path.chmod(0o644)
    assert f"chmod 600 {path}" in (lambda r: r.stdout + r.stderr)(cli("doctor"))
    assert len(room.person.messages(room.room_id)) == before


def test_notify_test_sends_one_message_to_the_room(room, isolated, tmp_path):
    _configure(room, isolated, tmp_path)
    result = cli("notify-test", "--reach", "phone")
    assert result.returncode == 0, result.stderr
    [message] = [m for m in room.person.messages(room.room_id) if m["type"] == "m.room.message"]
    assert message["sender"] == room.bot.user_id
    assert "org.crampguard.reminder" not in message["content"]
    assert room.bot.token not in result.stdout + result.stderr
