"""Where files live: on Linux the XDG rule, applied without platformdirs, gives the same
folders platformdirs would."""

from __future__ import annotations

import sys

import platformdirs
import pytest

from scheduler.paths import APP, resolve_paths

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rule")


@pytest.mark.parametrize("config_home", [None, "", "relative/conf", "/srv/conf"])
@pytest.mark.parametrize("state_home", [None, "/srv/state", "state"])
def test_the_default_folders_are_platformdirs_folders(monkeypatch, tmp_path, config_home,
                                                      state_home) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for var, value in (("XDG_CONFIG_HOME", config_home), ("XDG_STATE_HOME", state_home)):
        if value is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, value)
    for var in ("CRAMPGUARD_CONFIG_DIR", "CRAMPGUARD_STATE_DIR", "CRAMPGUARD_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    paths = resolve_paths()
    assert str(paths.config_dir) == platformdirs.user_config_dir(APP)
    assert str(paths.state_dir) == platformdirs.user_state_dir(APP)


def test_a_variable_beats_the_xdg_folder(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", "/srv/conf")
    paths = resolve_paths({"XDG_CONFIG_HOME": "/srv/conf",
                           "CRAMPGUARD_CONFIG_DIR": str(tmp_path / "mine")})
    assert paths.config_dir == tmp_path / "mine"
    assert paths.config_file == tmp_path / "mine" / "config.toml"
