"""Presence on a Wayland compositor other than GNOME's: a real headless sway (wlroots),
swayidle following its idle protocol, and the real daemon, run as sway's own user."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.support.daemon_proc import ROOT, Daemon, clock_in
from tests.support.routines import routine_text

pytestmark = [pytest.mark.slow, pytest.mark.desktop]

AWAY_2S = 'quiet_hours = "ignore"\naway_resets = "2s"'


def test_while_idle_on_sway_a_break_is_held_and_a_reminder_waits_for_the_return(sway):
    sway.write("pause-legs.toml", routine_text("Pause legs", clock_in(5)).replace(
        'quiet_hours = "ignore"', AWAY_2S + '\nwhen_away = "skip"'))
    sway.write("bedtime.toml", routine_text("Bedtime", clock_in(5)).replace(
        'quiet_hours = "ignore"', AWAY_2S + '\nwhen_away = "hold"'))
    with Daemon({**sway.env, "CRAMPGUARD_NOTIFIER": "console"},
                prefix=sway.as_user) as daemon:
        daemon.start("--routines", str(sway.routines))
        daemon.wait_for(r"presence: idle time from swayidle")
        daemon.wait_for(r"held pause-legs due .*: away \(away for \d+s\)", timeout=10)
        daemon.wait_for(r"waiting to show bedtime due .*: away for \d+s", timeout=5)
        assert daemon.count(r"delivered") == 0
        back = time.monotonic()
        sway.activity()
        daemon.wait_for(r"delivered bedtime via console", timeout=2)
        assert time.monotonic() - back <= 2.0
        assert daemon.count(r"delivered pause-legs") == 0
        # the compositor gone, swayidle with it: that is no sign of anyone being there
        sway.end_compositor()
        daemon.wait_for(r"presence unknown \(swayidle ended \(exit status \d+")
        assert daemon.stop() == 0


def test_doctor_on_sway_names_swayidle_and_says_fullscreen_is_not_seen(sway):
    done = subprocess.run(
        [*sway.as_user, sys.executable, "-m", "scheduler", "doctor"], cwd=ROOT,
        env={**sway.env, "PYTHONPATH": str(ROOT), "CRAMPGUARD_NOTIFIER": "console"},
        capture_output=True, text=True, timeout=30)
    lines = {line.split(": ", 2)[1]: line for line in done.stdout.splitlines()
             if line.startswith("presence: ")}
    assert "follows the compositor's idle protocol" in lines["swayidle"], done.stdout
    assert "[idle; idle time from here]" in lines["swayidle"]
    assert "a fullscreen window is not seen on Wayland" in lines["wayland-fullscreen"]
