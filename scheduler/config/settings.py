"""The daemon's own settings: defaults < config.toml < CRAMPGUARD_* environment < flags."""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, PlainValidator, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from scheduler import i18n
from scheduler.config import defaults, tomlfile
from scheduler.config.routine import Clock, Strict, parse_days_value, parse_window_value
from scheduler.errors import CrampguardError
from scheduler.i18n import _
from scheduler.timing import grammar
from scheduler.timing.grammar import Window

ENV_PREFIX = "CRAMPGUARD_"
#: The folders and files named in the environment, read by ``scheduler.paths`` (by exact
#: name: the settings keys below are matched in any case, as pydantic-settings does).
PATH_VARIABLES = ("CRAMPGUARD_CONFIG", "CRAMPGUARD_ROUTINES", "CRAMPGUARD_CONFIG_DIR",
                  "CRAMPGUARD_STATE_DIR", "CRAMPGUARD_RUNTIME_DIR")


def _quiet(value: Any) -> Window | Literal["off", "auto"]:
    word = value.strip().lower() if isinstance(value, str) else value
    if word in (None, "", "off", "none"):
        return "off"
    if word == "auto":
        return "auto"
    try:
        return parse_window_value(value)
    except ValueError as exc:
        raise ValueError(_('{exc}; or "auto" (from bedtime + {after} to wake) '
                           'or "off"').format(
            exc=exc, after=grammar.format_duration(defaults.QUIET_AFTER_BEDTIME))) from None


def quiet_after_bedtime(bedtime: time, wake: time) -> Window | None:
    """The default quiet hours: from a while after bedtime to wake; none when the night
    is too short to hold any."""
    night = grammar.since_midnight(wake) - grammar.since_midnight(bedtime)
    if night <= timedelta():
        night += timedelta(days=1)
    if night <= defaults.QUIET_AFTER_BEDTIME:
        return None
    start = datetime.combine(date.min, bedtime) + defaults.QUIET_AFTER_BEDTIME
    return Window(start.time(), wake)


def _clocks(value: Any) -> tuple[time, ...]:
    if isinstance(value, str):  # from the environment: "18:00" or "07:00,18:00"
        value = value.split(",")
    items = list(value) if isinstance(value, list | tuple) else [value]
    if not items:
        raise ValueError(_('give at least one time, e.g. ["18:00"]'))
    return tuple(v if isinstance(v, time) else grammar.parse_clock(str(v)) for v in items)


def _days(value: Any) -> frozenset[int]:
    if isinstance(value, str) and "," in value:  # from the environment: "tue,thu,sat"
        value = value.split(",")
    return parse_days_value(value)


# NoDecode: crampguard_anchors__work__between=09:00-17:30 is the value itself, not JSON
# (pydantic-settings would json.loads it and fail, as these types count as "complex").
WindowField = Annotated[Window, PlainValidator(parse_window_value), NoDecode]
AnchorDays = Annotated[frozenset[int], PlainValidator(_days), NoDecode]
Clocks = Annotated[tuple[time, ...], PlainValidator(_clocks), NoDecode]


class WorkAnchor(Strict):
    between: WindowField = Window(time(9), time(17, 30))
    days: AnchorDays = grammar.DAY_SETS["weekdays"]


class WorkoutAnchor(Strict):
    at: Clocks = (time(18),)
    days: AnchorDays = frozenset({1, 3, 5})


class Anchors(Strict):
    bedtime: Clock = time(22, 30)
    wake: Clock = time(7)
    work: WorkAnchor = WorkAnchor()
    workout: WorkoutAnchor = WorkoutAnchor()


#: `crampguard calendar` and the daemon's sync write this many days ahead, unless told.
CALENDAR_DAYS = 14
CALENDAR_DAYS_RANGE = (1, 60)
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def _calendar_url(value: Any) -> str:
    from urllib.parse import urlsplit

    text = value.strip() if isinstance(value, str) else ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError('give the CalDAV collection\'s address, e.g. '
                         '"https://dav.example.org/alice/crampguard/"')
    if parts.scheme == "http" and not (parts.hostname in _LOOPBACK_HOSTS
                                       or parts.hostname.startswith("127.")):
        # the password and the health data would cross the network in the clear
        raise ValueError("plain http is only for a server on this machine (localhost); "
                         "use https")
    if parts.username or parts.password:
        raise ValueError("no user or password in the address: give `user` and "
                         "`password_file`")
    return text if text.endswith("/") else text + "/"


def _password_file(value: Any) -> Path:
    path = Path(value).expanduser() if isinstance(value, str) and value.strip() else None
    if path is None or not path.is_absolute():
        raise ValueError('give the full path of a file holding the password alone, e.g. '
                         '"~/.config/crampguard/caldav-password" (mode 0600)')
    return path


def _calendar_days(value: Any) -> int:
    low, high = CALENDAR_DAYS_RANGE
    if isinstance(value, str) and value.strip().isdigit():  # from the environment
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"give a number of days, {low} to {high}")
    return value


class Calendar(Strict):
    """``[calendar]``: the CalDAV collection the daemon keeps the next days' firings in."""

    url: Annotated[str, PlainValidator(_calendar_url), NoDecode]
    user: str = Field(min_length=1)
    password_file: Annotated[Path, PlainValidator(_password_file), NoDecode]
    days: Annotated[int, PlainValidator(_calendar_days), NoDecode] = CALENDAR_DAYS


def _reach_tables(value: Any) -> dict[str, Any]:
    """``[reach.NAME]`` tables, checked by their models, which are loaded only when there
    is one (a daemon without channels builds none of their schemas)."""
    if not value:
        return {}
    from scheduler.config.reach import reach_tables

    return reach_tables(value)


_file_data: ContextVar[dict[str, Any] | None] = ContextVar("crampguard_config_file",
                                                          default=None)


class _ConfigFileSource(PydanticBaseSettingsSource):
    """The already-parsed config.toml (parsed by ``tomlfile`` so errors carry line numbers)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return (_file_data.get() or {}).get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_file_data.get() or {})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True,
    )

    schema_version: Literal[1] = 1
    timezone: str | None = Field(default=None, description="IANA zone; default the system's")
    #: "auto" follows the anchors (``quiet_window`` says what it comes to), "off" has none
    quiet_hours: Annotated[Window | Literal["off", "auto"], PlainValidator(_quiet)] = "auto"
    notifier: Literal["auto", "dbus", "plyer", "console"] = "auto"
    anchors: Anchors = Anchors()
    #: the language of what a person reads ("zh_CN"); "auto" follows LANGUAGE, LC_ALL,
    #: LC_MESSAGES and LANG. The CLI reads it before the settings load (cli/language.py).
    language: str = "auto"

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value != i18n.AUTO and not i18n.CODE.match(value):
            raise ValueError(_('not a language; use "auto" or a code like "zh_CN" or "en" '
                               '(got {value!r})').format(value=value))
        return value
    #: None: no calendar, and nothing of it is imported
    calendar: Calendar | None = None
    #: ``[reach.NAME]`` tables: the channels a reminder may go to away from the desk;
    #: empty: none, and nothing of them is imported
    reach: Annotated[dict[str, Any], PlainValidator(_reach_tables), NoDecode] = Field(
        default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value:
            load_zone(value)
        return value or None

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _ConfigFileSource(settings_cls)

    @property
    def quiet_window(self) -> Window | None:
        """The quiet hours in force: the one answer every caller uses."""
        if self.quiet_hours == "off":
            return None
        if self.quiet_hours == "auto":
            return quiet_after_bedtime(self.anchors.bedtime, self.anchors.wake)
        return self.quiet_hours

    @property
    def zone(self) -> tzinfo:
        if self.timezone:
            return load_zone(self.timezone)
        import tzlocal

        return tzlocal.get_localzone()


def load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            _('unknown time zone {name!r}; use an IANA name like "Europe/Berlin"').format(
                name=name)) from None


def load_settings(config_file: Path, flags: Mapping[str, Any] | None = None,
                  env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the config file (if it exists), the environment and the flags.

    Every problem, from the file or the environment, comes back in one CrampguardError.
    """
    data: dict[str, Any] = {}
    text = None
    if config_file.exists():
        data, text = tomlfile.read(config_file)
    env = os.environ if env is None else env
    token = _file_data.set(data)
    try:
        return Settings(**dict(flags or {}))
    except ValidationError as exc:
        problems = tomlfile.validation_problems(config_file, text, exc, Settings)
        raise CrampguardError(_name_env_sources(problems, exc, env, config_file)) from None
    except SettingsError as exc:  # a table variable (CRAMPGUARD_ANCHORS__WORK) not in JSON
        field = re.search(r'field "([^"]+)"', str(exc))
        var = ENV_PREFIX + (field[1].upper() if field else "")
        names = sorted(k.upper() for k in env if k.upper().startswith(var)) or [var + "*"]
        raise CrampguardError(
            _('environment {names}: not a valid value for a table; set one key per variable, '
              'e.g. {env_prefix}ANCHORS__WORK__BETWEEN="09:00-17:30", or give the table as '
              'JSON').format(names=', '.join(names), env_prefix=ENV_PREFIX)) from None
    finally:
        _file_data.reset(token)


def _name_env_sources(problems: list[str], exc: ValidationError, env: Mapping[str, str],
                      config_file: Path) -> list[str]:
    """A value that came from a CRAMPGUARD_* variable is blamed on the variable."""
    names = {k.upper() for k in env}
    named = []
    for problem, err in zip(problems, exc.errors(), strict=True):
        loc = [str(p).upper() for p in err["loc"] if not isinstance(p, int)]
        # The longest variable that sets this field or a table around it, if any.
        var = next((v for end in range(len(loc), 0, -1)
                    if (v := ENV_PREFIX + "__".join(loc[:end])) in names), None)
        if var:
            rest = problem.removeprefix(str(config_file)).lstrip(":0123456789")
            problem = f"environment {var}:{rest}"
        named.append(problem)
    return named


# --- CRAMPGUARD_* variables that nothing reads --------------------------------------------

def setting_variables(model: type[BaseModel] | None = None, prefix: str = ENV_PREFIX
                      ) -> Iterator[str]:
    """Every variable pydantic-settings reads: each key, and each table (as JSON) with
    its keys nested by ``__`` (CRAMPGUARD_ANCHORS, CRAMPGUARD_ANCHORS__WORK__BETWEEN)."""
    for name, field in (model or Settings).model_fields.items():
        var = prefix + name.upper()
        yield var
        # a table, or one that may be left out (``[calendar]``: ``Calendar | None``)
        inner = [t for t in typing.get_args(field.annotation) if t is not type(None)]
        table = inner[0] if len(inner) == 1 else field.annotation
        if isinstance(table, type) and issubclass(table, BaseModel):
            yield from setting_variables(table, var + "__")


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    """A warning for each ``CRAMPGUARD_*`` variable that nothing reads (a typo such as
    CRAMPGUARD_TIMEZOEN would otherwise be ignored without a word), naming the nearest
    known one. Not an error: the command goes on, on what it does read."""
    keys = set(setting_variables())
    unknown = sorted(name for name in env if name.upper().startswith(ENV_PREFIX)
                     and name not in PATH_VARIABLES and name.upper() not in keys)
    known = [*PATH_VARIABLES, *sorted(keys)]
    return [_("environment {name}: no such crampguard variable, ignored; ").format(name=name)
            + (_("did you mean {near}?").format(near=near) if (near := _nearest(name, known)) else
               _("the variables are listed in `crampguard --help`"))
            for name in unknown]


def _nearest(name: str, known: list[str]) -> str | None:
    """The known variable closest to ``name``, by the part after the prefix, whole or by
    its last key (CRAMPGUARD_BEDTIME is CRAMPGUARD_ANCHORS__BEDTIME)."""
    import difflib  # only when a variable is unknown: not at every start of the daemon

    typed = name.upper().removeprefix(ENV_PREFIX)

    def likeness(var: str) -> float:
        key = var.removeprefix(ENV_PREFIX)
        return max(difflib.SequenceMatcher(None, typed, part).ratio()
                   for part in (key, key.rsplit("__", 1)[-1]))

    best = max(known, key=likeness)
    return best if likeness(best) >= 0.6 else None
