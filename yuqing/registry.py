"""Import every package's models so ``Base.metadata`` knows all tables (Alembic, tests)."""

from __future__ import annotations

from sqlalchemy import MetaData

import alerts.models
import analysis.models
import crawler.models
import responses.models
import yuqing.core.models
from yuqing.core.db import Base

MODEL_MODULES = (yuqing.core.models, crawler.models, analysis.models, alerts.models, responses.models)


def metadata() -> MetaData:
    return Base.metadata
