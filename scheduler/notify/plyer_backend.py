"""plyer: the cross-platform path (macOS, Windows).

plyer shows no buttons, so the command to type goes into the body. On Linux it is a weak
path, and every weakness matters for a reminder that must not be lost:
- it goes through dbus-python if that is importable, else through `notify-send` run with
  `subprocess.call`, whose exit status it ignores: a notice nobody received still "succeeds";
- through notify-send it drops urgency, timeout and icon (it reads keyword names the facade
  never passes) and asks for a notice that never expires;
- any `/app` directory makes it think it runs in Flatpak and call the portal instead;
- both real paths end at the same org.freedesktop.Notifications server the dbus backend uses.
So on Linux this backend refuses up front where plyer could not possibly deliver (no session
bus, or neither dbus-python nor notify-send), and the chain leaves it out of "auto" there.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import warnings
from collections.abc import Mapping

from .base import Delivery, Notice, NotifyError, body_with_hint
from .dbus import session_bus_address

# plyer's own default; on Linux through dbus-python it is seconds * 1000.
_DEFAULT_TIMEOUT_S = 10


class PlyerNotifier:
    name = "plyer"

    def __init__(
        self, *, platform: str | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        # Both default to this process's; tests pass them to pin the Linux checks.
        self._platform = sys.platform if platform is None else platform
        self._env = env

    def send(self, notice: Notice) -> Delivery:
        if self._platform.startswith("linux"):
            problem = linux_problem(self._env)
            if problem:
                raise NotifyError(problem)
        try:
            # Imported here: plyer picks its platform implementation on first use, and a
            # daemon that never falls this far should not pay for that.
            from plyer import notification

            with warnings.catch_warnings():
                # plyer warns (and under warnings-as-errors, fails) when dbus-python is
                # missing, then uses notify-send, which is what we want.
                warnings.simplefilter("ignore")
                notification.notify(
                    title=notice.title,
                    message=body_with_hint(notice),
                    app_name=notice.app_name,
                    app_icon=_icon_path(notice.icon),
                    timeout=_timeout_s(notice.timeout_s),
                )
        except Exception as exc:  # plyer raises whatever its platform layer raises
            raise NotifyError(f"plyer could not show the notification: {exc!r}") from exc
        return Delivery(self.name)

    def close(self) -> None:
        pass


def linux_problem(env: Mapping[str, str] | None = None) -> str | None:
    """Why plyer cannot deliver on this Linux system, or None when it might."""
    if session_bus_address(env) is None:
        return "plyer needs a D-Bus session bus on Linux and there is none"
    if shutil.which("notify-send") is None and importlib.util.find_spec("dbus") is None:
        return "plyer needs notify-send (libnotify-bin) or dbus-python on Linux"
    return None


def _icon_path(icon: str) -> str:
    # plyer takes a file (Windows: an .ico), not a theme icon name; a name that is no file
    # would make the Windows path fail, so it is left out and plyer shows its default.
    return icon if icon and os.path.isfile(icon) else ""


def _timeout_s(timeout_s: float | None) -> int:
    if timeout_s is None:
        return _DEFAULT_TIMEOUT_S
    if timeout_s == 0:
        return 0
    return max(round(timeout_s), 1)  # a short positive timeout must not become "never"
