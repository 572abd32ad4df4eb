"""What every command starts from: paths, settings, the catalog and the active routines,
each built on first use, so a command pays only for what it needs (`crampguard status`
never imports pydantic)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from scheduler.paths import Paths

if TYPE_CHECKING:
    from scheduler.config.catalog import Catalog
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
        from scheduler.config.settings import load_settings

        return load_settings(self.paths.config_file, self.flags, self.env)

    @cached_property
    def catalog(self) -> Catalog:
        from scheduler.config.catalog import load_catalog

        return load_catalog(self.paths.catalog)

    def load_routines(self) -> RoutineSet:
        from scheduler.config.loader import load_set, require_folder

        if self.paths.only_routines is not None:
            require_folder(self.paths.only_routines)
        return load_set(self.paths.routine_dirs, self.settings, self.catalog)
