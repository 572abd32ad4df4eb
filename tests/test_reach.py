"""Reaching the user away from the desk, through the real daemon and CLI against real
counterparts on loopback: a real program for the command channel, a real SMTP server
(aiosmtpd) for e-mail, and an ntfy server written from ntfy's published API (no ntfy
server package exists here; that path is verified against the documentation only).

The user away is a locked screen (the desktop's screensaver, as tests/test_away.py does).
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.daemon_proc import (
    Daemon,
    cli,
    cli_json,
    clock_in,
    journal,
    until,
    write_settings,
)
from tests.support.fixtures import Dirs
from tests.support.mock_services import MockScreenSaver
from tests.support.ntfy_server import NtfyServer
from tests.support.routines import routine_text

#: Writes its arguments to the file named first, one JSON line a run; exits with the
#: status in the file named second, if there is one (a phone out of reach).
RECORDER = """\
import json, pathlib, sys
out, status = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
with out.open("a") as f:
    f.write(json.dumps(sys.argv[3:]) + "\\n")
if status.exists():
    print("phone unreachable", file=sys.stderr)
    sys.exit(int(status.read_text()))
"""


def _settings(dirs: Dirs, text: str) -> None:
    write_settings(dirs.config_file, text)




class Recorder:
    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.script = folder / "recorder.py"
        self.script.write_text(RECORDER)
        self.out = folder / "calls.jsonl"
        self.status = folder / "status"

    def table(self, name: str = "pc") -> str:
        argv = [sys.executable, str(self.script), str(self.out), str(self.status),
                "{title}: {message}"]
        return f'[reach.{name}]\nkind = "command"\nargv = {json.dumps(argv)}\n'

    def calls(self) -> list[list[str]]:
        if not self.out.exists():
            return []
        return [json.loads(line) for line in self.out.read_text().splitlines()]


def _ntfy_table(server: NtfyServer, name: str = "phone", token_file: Path | None = None,
                reply: str = "reply-to-crampguard-0123456789") -> str:
    return (f'[reach.{name}]\nkind = "ntfy"\nserver = "{server.url}"\ntopic = "legs"\n'
            f'reply_topic = "{reply}"\n'
            + (f'token_file = "{token_file}"\n' if token_file else ""))


AWAY = '[notify]\nreach = "away"\n'
ALWAYS = '[notify]\nreach = "always"\n'


# --- no desktop needed: reach = "always" sends to the channels as well ----------------------


def test_the_command_channel_runs_the_program_with_the_reminder_never_through_a_shell(
        isolated: Dirs, routines: Path, tmp_path: Path, console_env: dict[str, str]) -> None:
    recorder = Recorder(tmp_path / "cmd")
    _settings(isolated, recorder.table())
    (routines / "soak.toml").write_text(
        routine_text("Soak; $(touch pwned)", clock_in(2), notify=ALWAYS))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"reach pc: command")
        until(recorder.calls)
        daemon.wait_for(r"soak due .* sent via reach:pc too")
        assert daemon.stop() == 0
    assert recorder.calls() == [["Soak; $(touch pwned): Body of Soak; $(touch pwned)."]]
    assert not (Path.cwd() / "pwned").exists()
    kinds = [(e["kind"], e["backend"]) for e in journal("soak", env=console_env)]
    assert kinds == [("due", None), ("delivered", "console"), ("reached", "reach:pc")]


def test_unanswered_after_reach_after_it_goes_to_the_channel_even_across_a_restart(
        isolated: Dirs, routines: Path, tmp_path: Path, console_env: dict[str, str]) -> None:
    recorder = Recorder(tmp_path / "cmd")
    _settings(isolated, recorder.table())
    (routines / "soak.toml").write_text(
        routine_text("Soak", clock_in(2), notify=AWAY + 'reach_after = "4s"\n'))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"delivered soak via console")
        assert daemon.stop() == 0
    assert recorder.calls() == []
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"reaching soak due .* away from the desk too: unanswered after")
        daemon.wait_for(r"soak due .* sent via reach:pc too")
        assert daemon.stop() == 0
    assert len(recorder.calls()) == 1


@pytest.fixture
def ntfy() -> Iterator[NtfyServer]:
    with NtfyServer() as server:
        yield server


def test_an_ntfy_answer_from_the_reply_topic_is_done_once_even_if_heard_twice(
        isolated: Dirs, routines: Path, console_env: dict[str, str], ntfy: NtfyServer) -> None:
    _settings(isolated, _ntfy_table(ntfy))
    (routines / "soak.toml").write_text(routine_text("Soak", clock_in(2), notify=ALWAYS))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        until(lambda: ntfy.subscribers("reply-to-crampguard-0123456789"))
        (message,) = ntfy.wait_for("legs")
        assert message["title"] == "Soak"
        assert [a["label"] for a in message["actions"]] == ["Done", "Snooze 10 min"]
        assert all(a["action"] == "http" and a["method"] == "POST" for a in message["actions"])
        ntfy.press(message, "Done")
        ntfy.press(message, "Done")  # the phone sent it twice
        daemon.wait_for(r"done soak")
        daemon.wait_for(r"answer 'done' to soak .* not counted: already done")
        assert daemon.stop() == 0
    events = journal("soak", env=console_env)
    assert [e["kind"] for e in events] == ["due", "delivered", "reached", "done", "ignored"]
    assert events[3]["detail"]["source"] == "reach:phone"


def test_the_check_in_answered_on_ntfy_records_the_night(
        isolated: Dirs, routines: Path, console_env: dict[str, str], ntfy: NtfyServer) -> None:
    _settings(isolated, _ntfy_table(ntfy))
    (routines / "checkin.toml").write_text(routine_text(
        "Cramps?", clock_in(2),
        notify=ALWAYS + 'actions = ["cramps none", "cramps one", "cramps several"]\n'))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        (message,) = ntfy.wait_for("legs")
        assert [a["body"].split()[0] for a in message["actions"]] == [
            "cramps:none", "cramps:one", "cramps:several"]
        ntfy.press(message, message["actions"][0]["label"])
        daemon.wait_for(r"night of .*: none \(check-in\)")
        assert daemon.stop() == 0
    assert "done" in [e["kind"] for e in journal("checkin", env=console_env)]
    nights = cli_json("history", env=console_env)
    assert [e["kind"] for e in nights if e["routine"] is None] == ["no_cramp"]


def test_answers_given_while_the_daemon_was_down_are_read_from_where_it_left_off(
        isolated: Dirs, routines: Path, console_env: dict[str, str], ntfy: NtfyServer) -> None:
    _settings(isolated, _ntfy_table(ntfy))
    (routines / "soak.toml").write_text(routine_text("Soak", clock_in(2), notify=ALWAYS))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        (message,) = ntfy.wait_for("legs")
        daemon.wait_for(r"soak due .* sent via reach:phone too")
        assert daemon.stop() == 0
    ntfy.press(message, "Done")  # the laptop asleep: the phone's answer waits on the server
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"done soak", timeout=10)
        assert daemon.stop() == 0
    with Daemon(console_env) as daemon:  # and it is not read a second time
        daemon.start("--routines", str(routines))
        until(lambda: ntfy.subscribers("reply-to-crampguard-0123456789"))
        time_to_hear = daemon.mark()
        ntfy.press(message, "Done")  # a fresh message on the topic, after the old one
        daemon.wait_for(r"not counted: already done", after=time_to_hear)
        assert daemon.stop() == 0
    assert [e["kind"] for e in journal("soak", env=console_env)].count("done") == 1


def test_no_secret_in_status_doctor_json_or_the_log(
        isolated: Dirs, routines: Path, tmp_path: Path, console_env: dict[str, str]) -> None:
    secret = "tk_s3cretn0b0dyshouldsee"
    token = tmp_path / "ntfy-token"
    token.write_text(secret + "\n")
    token.chmod(0o600)
    with NtfyServer(token=secret) as server:
        _settings(isolated, _ntfy_table(server, token_file=token))
        (routines / "soak.toml").write_text(routine_text("Soak", clock_in(2), notify=ALWAYS))
        with Daemon(console_env) as daemon:
            daemon.start("--routines", str(routines))
            server.wait_for("legs")
            daemon.wait_for(r"sent via reach:phone too")
            status = cli("status", "--json", env=console_env)
            text = cli("status", env=console_env)
            doctor = cli("doctor", env=console_env)
            doctor_json = cli("doctor", "--json", env=console_env)
            assert daemon.stop() == 0
        assert server.requests and all(
            r[2].get("Authorization") == f"Bearer {secret}" for r in server.requests)
    (channel,) = json.loads(status.stdout)["channels"]
    assert channel["name"] == "phone" and channel["last"]["ok"] is True
    assert "channel phone: ntfy to" in text.stdout
    assert "reach phone" in doctor.stdout
    for output in (status.stdout, text.stdout, doctor.stdout, doctor.stderr,
                   doctor_json.stdout, daemon.log):
        assert secret not in output


def test_a_token_file_others_can_read_is_refused_saying_how_to_fix_it(
        isolated: Dirs, tmp_path: Path, console_env: dict[str, str]) -> None:
    token = tmp_path / "ntfy-token"
    token.write_text("tk_whatever\n")
    token.chmod(0o644)
    with NtfyServer() as server:
        _settings(isolated, _ntfy_table(server, token_file=token))
        doctor = cli("doctor", env=console_env)
        test = cli("notify-test", "--reach", "phone", env=console_env)
        assert server.on("legs") == []
    assert f"chmod 600 {token}" in doctor.stdout
    assert test.returncode == 1 and f"chmod 600 {token}" in test.stderr


def test_notify_test_sends_one_message_and_doctor_sends_none(
        isolated: Dirs, tmp_path: Path, console_env: dict[str, str], ntfy: NtfyServer) -> None:
    recorder = Recorder(tmp_path / "cmd")
    _settings(isolated, _ntfy_table(ntfy) + recorder.table())
    doctor = cli("doctor", env=console_env)
    assert "reach phone: ntfy" in doctor.stdout and "reach pc: command" in doctor.stdout
    assert ntfy.messages == [] and recorder.calls() == []
    sent = cli("notify-test", "--reach", "phone", env=console_env)
    assert sent.returncode == 0, sent.stderr
    (message,) = ntfy.on("legs")
    assert "actions" not in message
    assert cli("notify-test", "--reach", "pc", env=console_env).returncode == 0
    assert len(recorder.calls()) == 1
    unknown = cli("notify-test", "--reach", "nope", env=console_env)
    assert unknown.returncode == 1 and "no channel [reach.nope]" in unknown.stderr


# --- e-mail against a real SMTP server ------------------------------------------------------

aiosmtpd = pytest.importorskip("aiosmtpd", reason="needs aiosmtpd (pip install -e '.[test]')")


@pytest.fixture
def smtp() -> Iterator[Any]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    class Keep(Message):
        def __init__(self) -> None:
            super().__init__()
            self.mails: list[Any] = []

        def handle_message(self, message: Any) -> None:
            self.mails.append(message)

    handler = Keep()
    with socket.socket() as probe:  # a free port (the controller checks it by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    controller.mails = handler.mails  # type: ignore[attr-defined]
    try:
        yield controller
    finally:
        controller.stop()


def test_the_email_channel_sends_the_reminder_to_a_real_smtp_server(
        isolated: Dirs, routines: Path, console_env: dict[str, str], smtp: Any) -> None:
    _settings(isolated, f'[reach.mail]\nkind = "email"\nhost = "127.0.0.1"\n'
                        f'port = {smtp.port}\n'
                        f'security = "plain"\nsender = "crampguard@example.org"\n'
                        f'to = "me@example.org"\n')
    (routines / "soak.toml").write_text(routine_text("Soak", clock_in(2), notify=ALWAYS))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"sent via reach:mail too")
        assert daemon.stop() == 0
    (mail,) = smtp.mails
    assert mail["Subject"] == "Soak" and mail["To"] == "me@example.org"
    assert mail["X-Crampguard-Reminder"].startswith("soak@")
    assert "Body of Soak." in mail.get_payload()


def test_plain_smtp_to_another_machine_is_refused(isolated: Dirs,
                                                  console_env: dict[str, str]) -> None:
    _settings(isolated, '[reach.mail]\nkind = "email"\nhost = "mail.example.org"\n'
                        'security = "plain"\nsender = "a@example.org"\nto = "b@example.org"\n')
    result = cli("check", env=console_env)
    assert result.returncode == 1
    assert "config.toml:2: reach.mail" in result.stderr
    assert 'only for a server on this machine; use "starttls" or "tls"' in result.stderr


# --- away from the desk (a locked screen on the test desktop) -------------------------------


@pytest.fixture
def away_env(desktop: Any) -> dict[str, str]:
    return {**desktop.env, "CRAMPGUARD_NOTIFIER": "dbus",
            "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent"}


@pytest.mark.slow
def test_a_reminder_due_while_away_goes_to_the_channel_once_even_after_a_restart(
        isolated: Dirs, routines: Path, tmp_path: Path, away_env: dict[str, str],
        screensaver: MockScreenSaver, desktop: Any) -> None:
    recorder = Recorder(tmp_path / "cmd")
    _settings(isolated, recorder.table())
    (routines / "soak.toml").write_text(routine_text("Soak", clock_in(4), notify=AWAY))
    (routines / "stretch.toml").write_text(routine_text("Stretch", clock_in(12), notify=AWAY))
    with Daemon(away_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"presence: .*screensaver")
        screensaver.set_active(True)
        daemon.wait_for(r"reaching soak due .* away from the desk: the screen is locked",
                        timeout=8)
        daemon.wait_for(r"delivered soak via reach:pc")
        assert daemon.stop() == 0
    with Daemon(away_env) as daemon:  # a restart, still away: soak is not sent again
        daemon.start("--routines", str(routines))
        # the channel sends in order: had soak gone again, it would come before stretch
        daemon.wait_for(r"delivered stretch via reach:pc", timeout=15)
        assert daemon.stop() == 0
    assert [call[0].split(":")[0] for call in recorder.calls()] == ["Soak", "Stretch"]
    assert desktop.shown() == 0
    events = journal("soak", env=away_env)
    assert [(e["kind"], e["backend"]) for e in events] == [
        ("held", None), ("due", None), ("delivered", "reach:pc")]


@pytest.mark.slow
def test_a_channel_that_is_down_is_tried_again_then_the_reminder_is_failed_with_why(
        isolated: Dirs, routines: Path, tmp_path: Path, away_env: dict[str, str],
        screensaver: MockScreenSaver) -> None:
    recorder = Recorder(tmp_path / "cmd")
    recorder.status.write_text("3")
    _settings(isolated, recorder.table())
    (routines / "soak.toml").write_text(routine_text(
        "Soak", clock_in(4), notify=AWAY).replace('quiet_hours = "ignore"',
                                                 'quiet_hours = "ignore"\ncatch_up = "8s"'))
    with Daemon(away_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"presence: .*screensaver")
        screensaver.set_active(True)
        daemon.wait_for(r"could not send soak@.*: .*exited with status 3: phone unreachable"
                        r"; trying again in 5s", timeout=8)
        daemon.wait_for(r"failed soak due .*: reach:pc: .*status 3: phone unreachable",
                        timeout=15)
        status = cli_json("status", env=away_env)
        assert daemon.stop() == 0
    assert len(recorder.calls()) >= 2
    (channel,) = status["channels"]
    assert channel["last"]["ok"] is False and "phone unreachable" in channel["last"]["text"]
    events = journal("soak", env=away_env)
    assert [e["kind"] for e in events][-2:] == ["due", "failed"]
    assert "phone unreachable" in events[-1]["detail"]["reason"]


@pytest.mark.slow
def test_an_answer_on_the_phone_ends_the_reminder_on_the_desktop(
        isolated: Dirs, routines: Path, away_env: dict[str, str], ntfy: NtfyServer,
        screensaver: MockScreenSaver, desktop: Any) -> None:
    """reach_after: shown on the desktop, unanswered, then on the phone too; Done there
    takes the notice off the desktop."""
    _settings(isolated, _ntfy_table(ntfy))
    (routines / "soak.toml").write_text(routine_text(
        "Soak", clock_in(3), notify=AWAY + 'reach_after = "2s"\n'))
    with Daemon(away_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"delivered soak via dbus", timeout=8)
        assert desktop.shown() == 1
        (message,) = ntfy.wait_for("legs", timeout=8)
        daemon.wait_for(r"sent via reach:phone too")
        ntfy.press(message, "Done")
        daemon.wait_for(r"done soak")
        until(lambda: desktop.shown() == 0)
        assert daemon.stop() == 0
    assert [e["kind"] for e in journal("soak", env=away_env)] == [
        "due", "delivered", "reached", "done"]


@pytest.mark.slow
def test_an_answer_on_the_desktop_after_a_restart_still_tells_the_phone(
        isolated: Dirs, routines: Path, away_env: dict[str, str], ntfy: NtfyServer,
        screensaver: MockScreenSaver) -> None:
    """The message the phone showed is known from the reminder's row, not only from the
    run that sent it."""
    _settings(isolated, _ntfy_table(ntfy))
    (routines / "soak.toml").write_text(routine_text("Soak", clock_in(4), notify=AWAY))
    with Daemon(away_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"presence: .*screensaver")
        screensaver.set_active(True)
        daemon.wait_for(r"delivered soak via reach:phone", timeout=8)
        assert daemon.stop() == 0
    screensaver.set_active(False)
    with Daemon(away_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"crampguard running")
        assert cli("done", "soak", env=away_env).returncode == 0
        reminder, note = ntfy.wait_for("legs", count=2)
        assert note["message"] == "soak: done on the desktop", note
        assert daemon.stop() == 0
    assert [e["kind"] for e in journal("soak", env=away_env)][-2:] == ["delivered", "done"]


@pytest.mark.slow
def test_a_reminder_queued_behind_retries_past_its_catch_up_is_not_sent_late(
        isolated: Dirs, routines: Path, tmp_path: Path, console_env: dict[str, str]) -> None:
    recorder = Recorder(tmp_path / "cmd")
    recorder.status.write_text("3")
    _settings(isolated, recorder.table())
    ignore = 'quiet_hours = "ignore"'
    (routines / "soak.toml").write_text(routine_text("Soak", clock_in(3), notify=ALWAYS)
                                        .replace(ignore, ignore + '\ncatch_up = "12s"'))
    (routines / "stretch.toml").write_text(routine_text("Stretch", clock_in(4), notify=ALWAYS)
                                           .replace(ignore, ignore + '\ncatch_up = "2s"'))
    with Daemon(console_env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"could not send soak@.*trying again in 5s", timeout=10)
        daemon.wait_for(r"reach:pc: stretch@\S+: not sent within catch_up: the channel was "
                        r"still trying an earlier one", timeout=20)
        assert daemon.stop() == 0
    assert {call[0].split(":")[0] for call in recorder.calls()} == {"Soak"}


@pytest.fixture
def smtp_starttls(tmp_path: Path) -> Iterator[Any]:
    """A real SMTP server that takes mail only after STARTTLS and a login, with a
    certificate of its own for localhost that no system trusts."""
    import ssl
    import subprocess

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message
    from aiosmtpd.smtp import AuthResult, LoginPassword

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True,
                   capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    class Keep(Message):
        def __init__(self) -> None:
            super().__init__()
            self.mails: list[Any] = []
            self.logins: list[tuple[bytes, bytes]] = []

        def handle_message(self, message: Any) -> None:
            self.mails.append(message)

    handler = Keep()

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"me", b"s3cret pass")
        handler.logins.append((data.login, data.password))
        return AuthResult(success=ok)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True, authenticator=authenticate,
                            auth_required=True)
    controller.start()
    controller.mails, controller.logins = handler.mails, handler.logins  # type: ignore[attr-defined]
    controller.certificate = cert  # type: ignore[attr-defined]
    try:
        yield controller
    finally:
        controller.stop()


def _starttls_table(isolated: Dirs, smtp: Any) -> None:
    password = isolated.config / "mail-password"
    password.parent.mkdir(parents=True, exist_ok=True)
    password.write_text("s3cret pass\n")
    password.chmod(0o600)
    _settings(isolated, f'[reach.mail]\nkind = "email"\nhost = "localhost"\n'
                        f'port = {smtp.port}\nsecurity = "starttls"\nuser = "me"\n'
                        f'password_file = "{password}"\n'
                        f'sender = "crampguard@example.org"\nto = "me@example.org"\n')


def test_e_mail_goes_over_starttls_with_a_login_to_a_server_the_system_trusts(
        isolated: Dirs, routines: Path, console_env: dict[str, str], smtp_starttls: Any
        ) -> None:
    _starttls_table(isolated, smtp_starttls)
    env = {**console_env, "SSL_CERT_FILE": str(smtp_starttls.certificate)}
    (routines / "soak.toml").write_text(routine_text("Soak", clock_in(2), notify=ALWAYS))
    with Daemon(env) as daemon:
        daemon.start("--routines", str(routines))
        daemon.wait_for(r"sent via reach:mail too")
        assert daemon.stop() == 0
        log = daemon.log
    (mail,) = smtp_starttls.mails
    assert mail["Subject"] == "Soak"
    assert smtp_starttls.logins == [(b"me", b"s3cret pass")]
    assert "s3cret" not in log


def test_e_mail_to_a_server_whose_certificate_nobody_vouches_for_is_refused(
        isolated: Dirs, console_env: dict[str, str], smtp_starttls: Any) -> None:
    _starttls_table(isolated, smtp_starttls)
    result = cli("notify-test", "--reach", "mail", env=console_env)
    assert result.returncode != 0
    assert "certificate" in (result.stdout + result.stderr).lower(), result
    assert smtp_starttls.mails == [] and smtp_starttls.logins == []
