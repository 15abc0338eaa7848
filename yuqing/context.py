"""What an entry point needs: settings, config, engine and the session factory."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from yuqing.core.clock import Clock, system_clock
from yuqing.core.db import make_engine, make_sessionmaker
from yuqing.core.settings import AppConfig, Settings, load_config, load_settings


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
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_sessionmaker(self.engine)
