"""The phone's calendar: the next days' firings as iCalendar (``items``), what to put and
delete to bring a CalDAV collection in step (``plan``), the collection itself
(``collection``) and one sync (``sync``). Imported only by `crampguard calendar` and by a
daemon whose settings have a ``[calendar]`` table."""
