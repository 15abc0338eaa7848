"""Log output of the long-running commands: plain lines for a terminal, or one JSON object per
line (``--log-format json``) for journald/Loki/ELK, with the fields a log call passes in
``extra`` (``source``, ``incident_id``, ``duration_s`` …) as keys of their own."""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone
from typing import Any

from pythonjsonlogger.json import JsonFormatter

TEXT = "%(asctime)s %(levelname)s %(message)s"


class _UtcJson(JsonFormatter):
    """``time`` in UTC ISO 8601, ``level``, ``logger``, ``message``, ``pid``, then the extras."""

    def add_fields(self, log_record: dict[str, Any], record: logging.LogRecord,
                   message_dict: dict[str, Any]) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["time"] = datetime.fromtimestamp(record.created, timezone.utc).isoformat(
            timespec="milliseconds")
        log_record["level"] = record.levelname
        log_record["logger"] = record.name
        log_record["pid"] = record.process


def configure(fmt: str = "text", level: int = logging.INFO) -> None:
    """Replace the root logger's handlers with one on stderr in ``fmt``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_UtcJson("%(message)s", json_ensure_ascii=False) if fmt == "json"
                         else logging.Formatter(TEXT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
