"""The daemon process (`crampguard run`): service, engine, reminders, control handlers."""
