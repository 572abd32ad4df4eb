"""The user's files read and checked: TOML, the routine model, settings, the seeds
catalog, the loader of the active set."""
