"""The tray's names on the bus: its objects' paths and interfaces (the spec's own)."""

ITEM_PATH, ITEM_IFACE = "/StatusNotifierItem", "org.kde.StatusNotifierItem"
MENU_PATH, MENU_IFACE = "/MenuBar", "com.canonical.dbusmenu"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
INTROSPECT_IFACE = "org.freedesktop.DBus.Introspectable"
