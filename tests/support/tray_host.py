"""A real panel that hosts tray icons, on a test Desktop: Debian's `status-notifier-watcher`
(the registry a panel runs) and `gtk-sni-tray-standalone` (a bar at the top of the screen
that draws each registered StatusNotifierItem and opens its dbusmenu with GTK), driven with
xdotool and looked at with ImageMagick's `import`.

    panel = Panel.start(desktop)      # skips where a program is missing
    panel.wait_for_colour(ICON, near(GREEN))
    panel.click(ICON); panel.wait_for_menu(); panel.keys("Down", "Return")
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from jeepney import DBusAddress, Properties
from jeepney.bus_messages import message_bus

from tests.support.desktop import Desktop

#: program -> the Debian package that has it
PROGRAMS = {"status-notifier-watcher": "haskell-status-notifier-item-utils",
            "gtk-sni-tray-standalone": "haskell-gtk-sni-tray-utils",
            "xdotool": "xdotool", "import": "imagemagick"}
WATCHER = DBusAddress("/StatusNotifierWatcher", bus_name="org.kde.StatusNotifierWatcher",
                      interface="org.kde.StatusNotifierWatcher")
#: The bar's height; the first icon sits at its left end.
BAR = 30
ICON = (BAR // 2, BAR // 2)
#: A point of the icon's disc off its white mark (the dot, the pause bars): its colour.
ICON_COLOUR = (BAR // 2 + 6, BAR // 2)
#: A point the menu covers when open (it opens under the icon) and the bare root window
#: (black) shows when it is closed.
IN_MENU = (150, 120)
Colour = tuple[int, int, int]


def missing() -> list[str]:
    return [f"{program} ({package})" for program, package in PROGRAMS.items()
            if shutil.which(program) is None]


def near(target: Colour, within: int = 40) -> Callable[[Colour], bool]:
    return lambda colour: all(abs(a - b) <= within for a, b in zip(colour, target, strict=True))


def light(colour: Colour) -> bool:
    return min(colour) >= 200


def dark(colour: Colour) -> bool:
    return max(colour) <= 30


class Panel:
    def __init__(self, desktop: Desktop) -> None:
        self.desktop = desktop
        self.watcher: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls, desktop: Desktop) -> Panel:
        absent = missing()
        if absent:
            pytest.skip(f"no tray host: {', '.join(absent)} not installed")
        panel = cls(desktop)
        panel.start_watcher()
        bar = desktop.start_program(["gtk-sni-tray-standalone", "--top", "--beginning",
                                     "--size", str(BAR)], "bar.log")
        desktop.wait_until(panel.has_host, "the tray bar to register as a host", bar)
        return panel

    def start_watcher(self) -> None:
        self.watcher = self.desktop.start_program(["status-notifier-watcher"], "watcher.log")
        self.desktop.wait_until(self.has_watcher, "status-notifier-watcher", self.watcher)

    def restart_watcher(self) -> None:
        """As when the panel restarts: its watcher leaves the bus, and a new one comes."""
        assert self.watcher is not None
        self.desktop.stop_program(self.watcher)
        self.desktop.wait_until(lambda: not self.has_watcher(), "the watcher to leave")
        self.start_watcher()

    def has_watcher(self) -> bool:
        (owned,) = self.desktop.call(message_bus.NameHasOwner(WATCHER.bus_name))
        return bool(owned)

    def has_host(self) -> bool:
        ((_sig, registered),) = self.desktop.call(
            Properties(WATCHER).get("IsStatusNotifierHostRegistered"))
        return bool(registered)

    def items(self) -> list[str]:
        ((_sig, items),) = self.desktop.call(
            Properties(WATCHER).get("RegisteredStatusNotifierItems"))
        return list(items)

    # --- the screen ---------------------------------------------------------------------

    def _run(self, *argv: str) -> str:
        return subprocess.run(argv, env=self.desktop.env, capture_output=True, text=True,
                              check=True, timeout=20).stdout

    def pixel(self, at: tuple[int, int]) -> Colour:
        x, y = at
        # "0,0: (46,158,91)  #2E9E5B  srgb(...)": the hex is the same in every IM version
        text = self._run("import", "-window", "root", "-crop", f"1x1+{x}+{y}", "-depth", "8",
                         "txt:-")
        hex_code = text.splitlines()[-1].split("#", 1)[1][:6]
        return (int(hex_code[0:2], 16), int(hex_code[2:4], 16), int(hex_code[4:6], 16))

    def wait_for_colour(self, at: tuple[int, int], wanted: Callable[[Colour], bool],
                        what: str) -> None:
        self.desktop.wait_until(lambda: wanted(self.pixel(at)),
                                f"{what} (the pixel at {at} is {self.pixel(at)} now)")

    def screenshot(self, path: Path) -> Path:
        self._run("import", "-window", "root", str(path))
        return path

    # --- the pointer and the keyboard ---------------------------------------------------

    def click(self, at: tuple[int, int]) -> None:
        self._run("xdotool", "mousemove", str(at[0]), str(at[1]), "click", "1")

    def keys(self, *names: str) -> None:
        for name in names:
            self._run("xdotool", "key", name)

    def open_menu(self) -> None:
        """Click the icon and wait until its menu is drawn."""
        self.wait_for_colour(IN_MENU, dark, "no menu open")
        self.click(ICON)
        self.wait_for_colour(IN_MENU, light, "the tray menu to open")
