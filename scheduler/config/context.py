"""What every command starts from: paths, settings, the catalog and the active routines,
each built on first use, so a command pays only for what it needs (`crampguard status`
never imports pydantic)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from scheduler.errors import CrampguardError
from scheduler.i18n import _
from scheduler.paths import Paths

if TYPE_CHECKING:
    from scheduler.config.catalog import Catalog
    from scheduler.config.evidence import Evidence
    from scheduler.config.loader import RoutineSet
    from scheduler.config.settings import Settings


@dataclass
class Context:
    paths: Paths
    #: command-line overrides of settings (highest precedence)
    flags: dict[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)

    @cached_property
    def settings(self) -> Settings:
        return self.read_settings()

    def read_settings(self) -> Settings:
        """The settings as the files and the environment say now (``settings`` keeps the
        first read). A settings file named by ``--config`` or CRAMPGUARD_CONFIG must exist:
        a typo there would otherwise run on the defaults without a word."""
        from scheduler.config.settings import load_settings

        path, named_by = self.paths.config_file, self.paths.config_named_by
        if named_by and not path.exists():
            leave_out = "leave out --config" if named_by == "--config" else f"unset {named_by}"
            source = "" if named_by == "--config" else f" (from {named_by})"
            raise CrampguardError(_("no such settings file: {path}{source}; create it "
                                    "(`init` writes one there) or {leave_out}").format(
                                        path=path, source=source, leave_out=leave_out))
        return load_settings(path, self.flags, self.env)

    def settings_or_defaults(self) -> tuple[Settings, list[str]]:
        """The settings, or, with their problems, the defaults (what a daemon without a
        good copy runs on): for a command that goes on to check more than the settings."""
        from scheduler.config.settings import Settings

        try:
            return self.settings, []
        except CrampguardError as exc:
            return Settings.model_construct(), exc.problems

    @cached_property
    def catalog(self) -> Catalog:
        from scheduler.config.catalog import load_catalog

        return load_catalog(self.paths.catalog)

    @cached_property
    def evidence(self) -> Evidence:
        from scheduler.config.evidence import load_evidence

        return load_evidence(self.paths.evidence)

    def load_routines(self) -> RoutineSet:
        from scheduler.config.loader import load_set, require_folder

        if self.paths.only_routines is not None:
            require_folder(self.paths.only_routines)
        return load_set(self.paths.routine_dirs, self.settings, self.catalog)
