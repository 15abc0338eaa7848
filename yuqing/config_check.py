"""Everything any command would reject in the settings and the config file, found in one pass.

``yuqing init``, ``yuqing config check`` and ``yuqing run`` call :func:`check_all`. Each section
is validated by the package that owns it (``crawler.sources``, ``analysis.schemes``,
``alerts.policy``, ``alerts.roster``), every error is kept (not only the first) and each names
its place as an admin reads the file: ``sources[0].urll``, ``policy.ack_timeout_minutes``.
Warnings (a roster without an admin) do not stop a command; errors do.
"""

from __future__ import annotations

import difflib
import os
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from yuqing.core.settings import (DEFAULT_CONFIG_PATH, AppConfig, Settings, default_config_text,
                             format_loc)

# Chinese first words for pydantic's most common error types (its English message follows).
_LABELS = {
    "extra_forbidden": "未知的键 / unknown key",
    "missing": "缺少必填项 / required",
    "greater_than": "数值过小 / too small", "greater_than_equal": "数值过小 / too small",
    "less_than": "数值过大 / too large", "less_than_equal": "数值过大 / too large",
    "literal_error": "取值无效 / not one of the allowed values",
    "enum": "取值无效 / not one of the allowed values",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong: where (``sources[0].urll``; empty for the whole file) and what."""

    path: str
    message: str
    warning: bool = False

    def line(self) -> str:
        label = "警告 / warning" if self.warning else "错误 / error"
        return f"{label}: {self.path}: {self.message}" if self.path else f"{label}: {self.message}"


@dataclass
class Report:
    """The outcome of a check: what was read and every problem found."""

    source: str
    problems: list[Problem] = field(default_factory=list)
    settings: Settings | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.warning]


def config_path() -> Path:
    """The config file the environment names (also when another variable is invalid)."""
    return Path(os.environ.get("YUQING_CONFIG") or DEFAULT_CONFIG_PATH)


def check_all() -> Report:
    """Check the ``YUQING_*`` environment and the config file it names."""
    settings, problems = _settings()
    path = settings.config_path if settings else config_path()
    explicit = settings.config is not None if settings else bool(os.environ.get("YUQING_CONFIG"))
    data, source, read_problems = read_data(path, explicit)
    report = Report(source=source, problems=problems + read_problems, settings=settings)
    if data is not None:
        report.problems += check_data(data)
    return report


def _settings() -> tuple[Settings | None, list[Problem]]:
    try:
        return Settings(), []
    except ValidationError as exc:
        return None, [Problem(f"YUQING_{format_loc(e['loc']).upper()}", _message(e))
                      for e in exc.errors()]


def read_data(path: Path, explicit: bool) -> tuple[dict[str, Any] | None, str, list[Problem]]:
    """The config file as data (the built-in defaults when the default file is absent)."""
    if not explicit and not path.exists():
        return yaml.safe_load(default_config_text()), "built-in defaults", []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        return None, str(path), [Problem("", f"配置文件无法读取 / cannot read {path}: {reason}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        return None, str(path), [Problem("", f"配置文件格式错误 / invalid YAML in {path}{where}")]
    if not isinstance(data, dict):
        return None, str(path), [Problem("", "配置文件格式错误 / expected a mapping at the top")]
    return data, str(path), []


def check_data(data: dict[str, Any]) -> list[Problem]:
    """Every problem of a config mapping, section by section, in file order."""
    from alerts.policy import Policy
    from alerts.roster import Roster
    from analysis.ownership import Ownership
    from analysis.schemes import SchemesSection
    from crawler.sources import CrawlSettings, SourcesSection
    from responses.schedule import ReportsSection

    # Unknown top-level keys and sections of the wrong type; ``path`` is ours, not a key.
    problems = _validate(AppConfig, {k: v for k, v in data.items() if k != "path"})
    if "path" in data:
        problems.insert(0, Problem("path", _LABELS["extra_forbidden"]))
    sections: list[tuple[str, type[BaseModel], Any, str]] = [
        ("crawl", CrawlSettings, data.get("crawl") or {}, "crawl"),
        ("sources", SourcesSection, {"sources": data.get("sources") or []}, ""),
        ("schemes", SchemesSection, data.get("schemes") or [], "schemes"),
        ("policy", Policy, data.get("policy") or {}, "policy"),
        ("roster", Roster, data.get("roster") or {}, "roster"),
        ("ownership", Ownership, data.get("ownership") or {}, "ownership"),
        ("reports", ReportsSection, data.get("reports") or {}, "reports"),
    ]
    for name, model, value, prefix in sections:
        if _right_shape(name, data.get(name)):
            found = _validate(model, value, prefix)
            if name == "sources":  # names are compared on the raw list, beside broken entries
                found = [p for p in found if "duplicate source" not in p.message]
                found += _duplicate_sources(data) + _references(data)
            problems += found
    return problems + _channels(data) + _roster_warnings(data) + _ownership_warnings(data)


_SECTIONS = ("crawl", "sources", "schemes", "policy", "roster", "ownership")


def _right_shape(name: str, value: Any) -> bool:
    """Whether a section has the container type its model expects (else AppConfig said so)."""
    return value is None or isinstance(value, list if name in ("sources", "schemes") else dict)


def _validate(model: type[BaseModel], value: Any, prefix: str = "") -> list[Problem]:
    try:
        model.model_validate(value)
    except ValidationError as exc:
        return [Problem(format_loc(e["loc"], prefix), _message(e, model)) for e in exc.errors()]
    return []


def _message(error: ErrorDetails, model: type[BaseModel] | None = None) -> str:
    text = str(error["msg"]).removeprefix("Value error, ")
    label = _LABELS.get(error["type"])
    if error["type"] == "extra_forbidden":
        known = _keys_at(model, tuple(error["loc"][:-1])) if model else []
        close = difflib.get_close_matches(str(error["loc"][-1]), known, n=1)
        return label + (f"（是否应为 / did you mean {close[0]!r}?）" if close else "") if label \
            else text
    got = error.get("input")
    shown = f" (got {got!r})" if isinstance(got, (str, int, float, bool)) else ""
    if label is None and not any("\u4e00" <= char <= "\u9fff" for char in text):
        label = "取值无效 / invalid value"  # pydantic's and some validators' English only
    return f"{label}: {text}{shown}" if label else f"{text}{shown}"


def _keys_at(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The field names of the model found at ``loc`` inside ``model`` (for "did you mean")."""
    annotation: Any = model
    for part in loc:
        annotation = _inner(annotation, part)
        if annotation is None:
            return []
    found = _model_of(annotation)
    return [n for n in found.model_fields if n not in ("root", "path")] if found else []


def _inner(annotation: Any, part: int | str) -> Any:
    found = _model_of(annotation)
    if found is not None:
        fields = found.model_fields
        if "root" in fields and not isinstance(part, str):
            return _inner(fields["root"].annotation, part)
        return fields[part].annotation if isinstance(part, str) and part in fields else None
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (list, tuple) and isinstance(part, int):
        return args[0] if args else None
    if origin is dict and isinstance(part, str):
        return args[1] if len(args) == 2 else None
    for arg in args:  # Optional / Union: the first alternative that leads somewhere
        inner = _inner(arg, part)
        if inner is not None:
            return inner
    return None


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model ``annotation`` is, or holds as an alternative (``Model | None``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return None
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _duplicate_sources(data: dict[str, Any]) -> list[Problem]:
    sources = data.get("sources")
    seen: dict[str, int] = {}
    problems = []
    for i, source in enumerate(sources if isinstance(sources, list) else []):
        name = source.get("name") if isinstance(source, dict) else None
        if not isinstance(name, str):
            continue
        if name in seen:
            problems.append(Problem(f"sources[{i}].name", f"数据源重名 / duplicate source name "
                                                          f"{name!r} (also sources[{seen[name]}])"))
        seen.setdefault(name, i)
    return problems


def _references(data: dict[str, Any]) -> list[Problem]:
    """A search source's ``scheme`` must name a configured (or shipped) keyword scheme."""
    from analysis.schemes import load_schemes_yaml

    schemes = data.get("schemes") or []
    names = ({s.get("name") for s in schemes if isinstance(s, dict)} if schemes
             else {s.name for s in load_schemes_yaml()})
    problems = []
    for i, source in enumerate(data.get("sources") or []):
        wanted = source.get("scheme") if isinstance(source, dict) else None
        if wanted and wanted not in names:
            problems.append(Problem(f"sources[{i}].scheme",
                                    f"没有名为 {wanted!r} 的监测方案 / no scheme named {wanted!r}"))
    return problems


def _channels(data: dict[str, Any]) -> list[Problem]:
    """Each channel of a known scheme must be a URL apprise can use (sending nothing)."""
    from yuqing.core.people import CHANNEL_SCHEMES
    from alerts.transports.apprise_transport import valid_url

    people = (data.get("roster") or {}).get("people") if isinstance(data.get("roster"),
                                                                    dict) else None
    problems = []
    for key, person in (people or {}).items() if isinstance(people, dict) else []:
        channels = person.get("channels") if isinstance(person, dict) else None
        for j, url in enumerate(channels if isinstance(channels, list) else []):
            scheme = str(url).split("://", 1)[0].lower()
            if scheme in CHANNEL_SCHEMES and not valid_url(str(url)):
                problems.append(Problem(f"roster.people.{key}.channels[{j}]",
                                        f"通知地址无法使用 / apprise cannot use {str(url)[:60]!r}"))
    return problems


def _roster_warnings(data: dict[str, Any]) -> list[Problem]:
    roster = data.get("roster")
    if not isinstance(roster, dict) or roster.get("admin"):
        return []
    return [admin_warning()]


def _ownership_warnings(data: dict[str, Any]) -> list[Problem]:
    """Owning sections the roster names no head for: their incidents escalate to the head of
    the duty officer's section instead (one warning, when the config
    writes both the owners and the heads)."""
    from pydantic import ValidationError

    from analysis.ownership import load_ownership

    roster = data.get("roster")
    heads = roster.get("sections") if isinstance(roster, dict) else None
    if not isinstance(heads, dict) or not heads or not data.get("ownership"):
        return []
    try:
        owners = load_ownership(data.get("ownership") or {}).root
    except ValidationError:
        return []  # reported as an error above
    missing = "、".join(sorted({section for section in owners.values() if section not in heads}))
    if not missing:
        return []
    return [Problem("roster.sections", f"主管科室无科室负责人：{missing}，其事件升级将转至值班员所在科室负责人 / "
                    f"owning sections without a head in roster.sections: {missing}",
                    warning=True)]


def admin_warning() -> Problem:
    return Problem("roster.admin", "未指定管理员：数据源失效和通知渠道故障的预警将无人接收 / no admin: "
                   "source-down and channel-failure alerts have no recipient", warning=True)
