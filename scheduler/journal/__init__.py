"""The journal: the SQLite store, its event kinds, and the statistics over it."""
