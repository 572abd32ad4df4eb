"""What every command starts from: paths, settings, the catalog and the active routines,
each built on first use so a command pays only for what it needs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from scheduler.catalog import Catalog, load_catalog
from scheduler.loader import RoutineSet, load_set, require_folder
from scheduler.paths import Paths
from scheduler.settings import Settings, load_settings


@dataclass
class App:
    paths: Paths
    #: command-line overrides of settings (highest precedence)
    flags: dict[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.paths.config_file, self.flags, self.env)

    @cached_property
    def catalog(self) -> Catalog:
        return load_catalog(self.paths.catalog)

    def load_routines(self) -> RoutineSet:
        if self.paths.only_routines is not None:
            require_folder(self.paths.only_routines)
        return load_set(self.paths.routine_dirs, self.settings, self.catalog)
