"""Starting crampguard with the user's session: the entry a service manager or the desktop
reads at login (`crampguard service install | uninstall | status`).

The command line's side only: the daemon never imports this package (it learns nothing
from it; its side of the deal is ``daemon/readiness.py``)."""
