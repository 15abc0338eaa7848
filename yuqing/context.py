"""What an entry point needs: settings, config, engine and the session factory."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from yuqing.core.clock import Clock, system_clock
from yuqing.core.db import make_engine, make_sessionmaker
from yuqing.core.settings import AppConfig, Settings, load_config, load_settings

if TYPE_CHECKING:
    from yuqing.services.config import Config


@dataclass
class AppContext:
    settings: Settings
    config: AppConfig
    clock: Clock = system_clock

    @classmethod
    def from_env(cls) -> AppContext:
        """Read and validate settings and config; raises ``SettingsError`` with one line."""
        settings = load_settings()
        return cls(settings=settings, config=load_config(settings))

    @cached_property
    def typed(self) -> Config:
        """Every config section validated into typed objects, once (``SettingsError``: the
        first problem, in one line)."""
        from yuqing.services.config import load

        return load(self.config, self.settings)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_sessionmaker(self.engine)
