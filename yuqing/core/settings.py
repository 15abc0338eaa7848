"""One typed settings object (env ``YUQING_*``) and the admin-edited YAML config.

Settings are read once at an entry point and passed down; nothing reads them at import time.
Every error names where the bad value came from (variable or file), the key and what was expected,
in one line, so the CLI can print it instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite:///var/yuqing.db"
DEFAULT_CONFIG_PATH = Path("yuqing.yaml")
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


class SettingsError(Exception):
    """A setting or config file is invalid; the message is one line, ready to show a user."""


class Settings(BaseSettings):
    """Process settings from ``YUQING_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="YUQING_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    config: Path | None = None
    timezone: str = "Asia/Shanghai"
    dashboard_url: str | None = None  # the web dashboard; alerts link to it only when set

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {value!r}") from exc
        if url.get_backend_name() not in SUPPORTED_BACKENDS:
            raise ValueError(
                f"unknown database scheme {url.drivername!r}, expected sqlite:/// or postgresql://"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}, expected e.g. Asia/Shanghai") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def config_path(self) -> Path:
        return self.config if self.config is not None else DEFAULT_CONFIG_PATH


def load_settings() -> Settings:
    """Read the environment; raise ``SettingsError`` naming the variable on a bad value."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(_describe(exc, source="environment", env=True)) from None


class AppConfig(BaseModel):
    """The admin-edited YAML file. Each package validates its own section with ``section()``."""

    model_config = ConfigDict(extra="forbid")

    crawl: dict[str, Any] = {}
    sources: list[dict[str, Any]] = []
    schemes: list[dict[str, Any]] = []
    policy: dict[str, Any] = {}
    roster: dict[str, Any] = {}
    ownership: dict[str, Any] = {}
    reports: dict[str, Any] = {}
    path: Path | None = None


def load_config(settings: Settings) -> AppConfig:
    """Load the YAML config; a missing default file means the embedded defaults.

    A file named explicitly by ``YUQING_CONFIG`` must exist and be readable.
    """
    path = settings.config_path
    if settings.config is None and not path.exists():
        return AppConfig(**yaml.safe_load(default_config_text()))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise SettingsError(f"配置文件无法读取 / cannot read config {path}: {reason}") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise SettingsError(f"配置文件格式错误 / invalid YAML in {path}{where}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"配置文件格式错误 / {path}: expected a mapping at the top level")
    if "path" in data:
        raise SettingsError(f"配置错误 / invalid setting in {path}: path: unknown key")
    try:
        return AppConfig(**data, path=path)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, source=str(path))) from None


M = TypeVar("M", bound=BaseModel)


def section(config: AppConfig, name: str, model: type[M], data: Any) -> M:
    """Validate one part of the config with a package's own model, naming file and key on error."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        source = str(config.path) if config.path else "built-in defaults"
        raise SettingsError(_describe(exc, source=source, prefix=name)) from None


def format_loc(loc: Sequence[int | str], prefix: str = "") -> str:
    """``sources[0].urll`` from pydantic's ``('sources', 0, 'urll')``, as an admin reads the
    file; ``prefix`` is the section, not repeated when the location already starts with it."""
    parts = list(loc)
    if prefix and parts and parts[0] == prefix:
        parts = parts[1:]
    text = prefix
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe(exc: ValidationError, source: str, prefix: str = "", env: bool = False) -> str:
    error = exc.errors()[0]
    key = f"YUQING_{format_loc(error['loc']).upper()}" if env else format_loc(error["loc"], prefix)
    message = str(error["msg"]).removeprefix("Value error, ")
    got = error.get("input")
    shown = f" (got {got!r})" if isinstance(got, (str, int, float, bool)) else ""
    more = (f" (+{len(exc.errors()) - 1} more: yuqing config check lists all)"
            if len(exc.errors()) > 1 else "")
    return f"配置错误 / invalid setting in {source}: {key}: {message}{shown}{more}"


def default_config_text() -> str:
    """The commented default config that ``yuqing init`` writes."""
    return (Path(__file__).parent.parent / "default_config.yaml").read_text(encoding="utf-8")
