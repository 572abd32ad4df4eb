"""crampguard: desktop reminders for the documented leg-cramp prevention routine."""

__version__ = "0.1.0"
