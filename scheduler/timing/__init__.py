"""Pure time rules: the time grammar, cron, wall-clock resolution across DST, and the
plans that say when a routine fires. Standard library only; never reads the clock."""
