"""The tray icon in process: the daemon's state mapped to the icon, title and menu (pure),
and the StatusNotifierItem and dbusmenu objects as a panel reads them on a private bus."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from jeepney import DBusAddress, HeaderFields, MatchRule, Properties, message_bus, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.wrappers import unwrap_msg

from scheduler.tray import icon
from scheduler.tray.menu import (
    PAUSED,
    RUNNING,
    WAITING,
    Entry,
    State,
    Unanswered,
    answer_key,
    pause_until,
    view,
)
from tests.support.mock_services import PrivateBus

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 21, 50, tzinfo=BERLIN)
STRETCH = Unanswered("calf-stretch", "Calf stretch", NOW - timedelta(minutes=5),
                     snoozes=("snooze:10m", "snooze:1h"))
CHECKIN = Unanswered("morning-checkin", "Morning check-in", NOW - timedelta(hours=14),
                     checkin=True)


def state(**changes: object) -> State:
    base = State(zone=BERLIN, wake=time(7), next=("Calf stretch", NOW + timedelta(hours=1)))
    return State(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def labels(entries: tuple[Entry, ...]) -> list[str | None]:
    return [entry.label for entry in entries]


def keys(entries: tuple[Entry, ...]) -> dict[str, str]:
    return {entry.label: entry.key for entry in entries if entry.label and entry.key}


# --- the state as the panel shows it (pure) -----------------------------------------------


def test_running_shows_what_comes_next() -> None:
    shown = view(state(), NOW)
    assert (shown.look, shown.status) == (RUNNING, "Active")
    assert shown.title == "crampguard: running"
    assert shown.tooltip == "next: Calf stretch at 22:50"
    assert labels(shown.menu) == [
        "running", "Next: Calf stretch at 22:50", None, "No cramps last night", "Log a cramp",
        None, "Pause 30 min", "Pause 1 h", "Pause until tomorrow morning", None,
        "Open this month's report"]
    assert [e.enabled for e in shown.menu[:2]] == [False, False]
    assert keys(shown.menu) == {
        "No cramps last night": "night none", "Log a cramp": "cramp",
        "Pause 30 min": "pause 30m", "Pause 1 h": "pause 1h",
        "Pause until tomorrow morning": "pause morning", "Open this month's report": "report"}


def test_an_unanswered_reminder_asks_for_attention_and_has_its_buttons() -> None:
    shown = view(state(unanswered=(STRETCH,)), NOW)
    assert (shown.look, shown.status) == (WAITING, "NeedsAttention")
    assert shown.tooltip.splitlines()[-1] == "waiting for your answer: Calf stretch"
    reminder = shown.menu[3]
    assert reminder.label == "Calf stretch (21:45)" and reminder.key is None
    due = STRETCH.due.isoformat()
    assert keys(reminder.children) == {
        "Done": f"answer calf-stretch {due} done",
        "Snooze 10m": f"answer calf-stretch {due} snooze:10m",
        "Snooze 1h": f"answer calf-stretch {due} snooze:1h",
        "Skip": f"answer calf-stretch {due} skip"}


def test_a_waiting_check_in_takes_the_night_answer() -> None:
    shown = view(state(unanswered=(CHECKIN,)), NOW)
    assert labels(shown.menu[3].children) == ["No cramps", "One cramp", "Several", "Skip"]
    assert keys(shown.menu)["No cramps last night"] == answer_key(CHECKIN, "cramps:none")
    assert shown.menu[3].label == "Morning check-in (07:50)"


def test_paused_shows_until_when_and_offers_resume() -> None:
    until = NOW + timedelta(minutes=30)
    shown = view(state(paused_until=until), NOW)
    assert (shown.look, shown.title) == (PAUSED, "crampguard: paused until 22:20")
    assert shown.tooltip == ""  # nothing comes while paused
    assert keys(shown.menu)["Resume"] == "resume"
    assert view(state(paused_until=NOW), NOW).look == RUNNING  # a pause that just ended


def test_next_tomorrow_says_so() -> None:
    shown = view(state(next=("Morning check-in", NOW + timedelta(hours=10))), NOW)
    assert shown.tooltip == "next: Morning check-in at tomorrow 07:50"


def test_the_menu_speaks_the_notices_language() -> None:
    from scheduler import i18n

    try:
        i18n.use("zh_CN", everywhere=False)  # as the daemon: its notices only
        shown = view(state(unanswered=(STRETCH,)), NOW)
    finally:
        i18n.use("en")
    assert shown.title == "crampguard: 运行中"
    assert keys(shown.menu)["暂停 30 分钟"] == "pause 30m"
    assert i18n._("Resume") == "Resume"  # the rest of the daemon stays English


@pytest.mark.parametrize(("now", "which", "until"), [
    (NOW, "30m", NOW + timedelta(minutes=30)),
    (NOW, "1h", NOW + timedelta(hours=1)),
    (NOW, "morning", datetime(2026, 11, 24, 7, 0, tzinfo=BERLIN)),
    # after midnight, "tomorrow morning" is this morning's wake time
    (datetime(2026, 11, 24, 1, 0, tzinfo=BERLIN), "morning",
     datetime(2026, 11, 24, 7, 0, tzinfo=BERLIN)),
    # the night the clocks go back: the wake time in the zone, not 24 h on
    (datetime(2026, 10, 24, 23, 0, tzinfo=BERLIN), "morning",
     datetime(2026, 10, 25, 7, 0, tzinfo=BERLIN)),
])
def test_pause_until(now: datetime, which: str, until: datetime) -> None:
    assert pause_until(which, now, BERLIN, time(7)) == until


def test_each_look_is_a_round_icon_in_its_colour() -> None:
    for look in (RUNNING, WAITING, PAUSED):
        [(w1, h1, small), (w2, h2, large)] = icon.pixmaps(look)
        assert (w1, h1, len(small)) == (22, 22, 22 * 22 * 4)
        assert (w2, h2, len(large)) == (44, 44, 44 * 44 * 4)
        assert small[0] == 0  # a transparent corner (ARGB: alpha first)
        centre = (11 * 22 + 11) * 4
        assert small[centre] == 255
    ring = (11 * 22 + 17) * 4  # off the white mark
    assert icon.pixmap(RUNNING, 22)[ring + 1:ring + 4] == bytes((0x2E, 0x9E, 0x5B))
    assert icon.pixmap(WAITING, 22)[ring + 1:ring + 4] == bytes((0xE8, 0x8A, 0x1A))


# --- the objects on the bus, as a panel reads them ----------------------------------------

ITEM = "/StatusNotifierItem"
MENU = "/MenuBar"


class Panel:
    def __init__(self, conn: DBusConnection, name: str) -> None:
        self.conn, self.name = conn, name

    def call(self, path: str, interface: str, method: str, signature: str | None = None,
             body: tuple = ()) -> tuple:
        target = DBusAddress(path, bus_name=self.name, interface=interface)
        message = new_method_call(target, method, signature, body)
        return unwrap_msg(self.conn.send_and_get_reply(message, timeout=5))

    def item(self, name: str) -> object:
        target = DBusAddress(ITEM, bus_name=self.name, interface="org.kde.StatusNotifierItem")
        ((_sig, value),) = unwrap_msg(self.conn.send_and_get_reply(
            Properties(target).get(name), timeout=5))
        return value

    def layout(self) -> tuple[int, tuple]:
        return self.call(MENU, "com.canonical.dbusmenu", "GetLayout", "iias", (0, -1, []))

    def click(self, item_id: int) -> None:
        self.call(MENU, "com.canonical.dbusmenu", "Event", "isvu",
                  (item_id, "clicked", ("i", 0), 0))


def flat(node: tuple) -> dict[str, int]:
    """label -> id over a GetLayout tree."""
    item_id, props, children = node
    found = {props["label"][1]: item_id} if "label" in props else {}
    for _sig, child in children:
        found.update(flat(child))
    return found


@pytest.fixture
def bus() -> Iterator[PrivateBus]:
    with PrivateBus() as private:
        yield private


@pytest.fixture
def exported(bus: PrivateBus) -> Iterator[tuple[object, Panel, queue.Queue[str]]]:
    from scheduler.tray.item import Tray

    clicks: queue.Queue[str] = queue.Queue()
    tray = Tray(view(state(unanswered=(STRETCH,)), NOW), clicks.put, address=bus.address)
    assert tray.start() is False  # no watcher on this bus
    conn = open_dbus_connection(bus.address)
    try:
        yield tray, Panel(conn, tray._name), clicks
    finally:
        conn.close()
        tray.close()


def test_the_panel_reads_the_item_and_its_menu(exported) -> None:
    tray, panel, clicks = exported
    assert panel.item("Id") == "crampguard"
    assert panel.item("Status") == "NeedsAttention"
    assert panel.item("Menu") == MENU and panel.item("ItemIsMenu") is True
    assert panel.item("ToolTip")[2] == "crampguard: running"
    assert panel.item("IconPixmap") == icon.pixmaps(WAITING)
    revision, root = panel.layout()
    ids = flat(root)
    assert list(ids)[:3] == ["running", "Next: Calf stretch at 22:50", "Calf stretch (21:45)"]
    (version,) = panel.call(MENU, "org.freedesktop.DBus.Properties", "Get", "ss",
                            ("com.canonical.dbusmenu", "Version"))
    assert version == ("u", 3)

    panel.click(ids["Done"])
    assert clicks.get(timeout=2) == answer_key(STRETCH, "done")
    panel.click(ids["running"])  # a heading: nothing asked
    panel.click(ids["Pause 30 min"])
    assert clicks.get(timeout=2) == "pause 30m"


def test_a_change_is_signalled_and_a_click_keeps_meaning_its_entry(exported, bus) -> None:
    tray, panel, clicks = exported
    _revision, root = panel.layout()
    before = flat(root)
    rule = MatchRule(type="signal")  # the tray's, by its unique name: all but the bus's own
    unwrap_msg(panel.conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=5))
    with panel.conn.filter(rule) as signals:
        tray.show(view(state(), NOW))  # answered: the reminder leaves the menu
        heard = set()
        while not {"LayoutUpdated", "NewIcon", "NewStatus", "NewToolTip"} <= heard:
            message = panel.conn.recv_until_filtered(signals, timeout=5)
            heard.add(message.header.fields[HeaderFields.member])
    assert panel.item("Status") == "Active"
    _revision, root = panel.layout()
    after = flat(root)
    assert "Done" not in after
    assert after["Pause 30 min"] == before["Pause 30 min"]  # the same entry, the same id
    panel.click(before["Done"])  # drawn before the change: the entry is gone, nothing done
    panel.click(after["Log a cramp"])
    assert clicks.get(timeout=2) == "cramp"


def test_unknown_calls_get_an_error_not_silence(exported) -> None:
    from jeepney.wrappers import DBusErrorResponse

    _tray, panel, _clicks = exported
    with pytest.raises(DBusErrorResponse):
        panel.call(MENU, "com.canonical.dbusmenu", "GetLayout", "iias", (999, -1, []))
    with pytest.raises(DBusErrorResponse):
        panel.call(ITEM, "org.kde.StatusNotifierItem", "Frobnicate")
    (xml,) = panel.call(ITEM, "org.freedesktop.DBus.Introspectable", "Introspect")
    assert 'name="org.kde.StatusNotifierItem"' in xml
