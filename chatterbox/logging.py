"""Structured logging: one JSON object per line on stderr, for our loggers and uvicorn's.

Every record has ``ts`` (RFC 3339 UTC, ms), ``level``, ``logger`` and ``msg``; fields passed with
``extra={...}`` are added as top-level keys (``user_id``, ``method``, ``path``, ``status``,
``duration_ms``...). Tokens, passwords and cookies are never logged. Configured at serve time from
``settings.log_level`` (:func:`logging_config` is handed to uvicorn, so every worker process
uses it) and usable directly with :func:`configure_logging`.
"""

from __future__ import annotations

import json
import logging
import logging.config
from typing import Any, Final

from chatterbox.domain.clock import format_ms

__all__ = ["JsonFormatter", "configure_logging", "logging_config"]

_STANDARD: Final = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
    | {"message", "asctime", "color_message", "taskName"}
)


class JsonFormatter(logging.Formatter):
    """Formats a record as a single JSON line (non-JSON values via ``str``)."""

    def format(self, record: logging.LogRecord) -> str:
        """The JSON line of ``record``."""
        out: dict[str, Any] = {
            "ts": format_ms(int(record.created * 1000)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def logging_config(level: str) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` dict: JSON lines to stderr at ``level``."""
    lvl = level.upper()
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": handler},
        "loggers": {
            "chatterbox": {"handlers": ["stderr"], "level": lvl, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": lvl, "propagate": False},
            "uvicorn.error": {"level": lvl},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def configure_logging(level: str) -> None:
    """Apply :func:`logging_config` to this process."""
    logging.config.dictConfig(logging_config(level))
