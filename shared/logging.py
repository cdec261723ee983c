"""JSON logs carrying the correlation id of the request or event being handled."""
from __future__ import annotations

import contextvars
import logging
import sys
import uuid

from pythonjsonlogger.json import JsonFormatter

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)


def new_correlation_id() -> str:
    return str(uuid.uuid4())


class _CorrelationFilter(logging.Filter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get()
        record.service = self.service
        return True


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at emit time (gunicorn and test runners swap it)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure_logging(service: str, level: str = "INFO") -> None:
    """Idempotent: gunicorn workers and tests may call it more than once."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_greenmine", False):
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler._greenmine = True  # type: ignore[attr-defined]
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(correlation_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )
    )
    handler.addFilter(_CorrelationFilter(service))
    root.addHandler(handler)
    root.setLevel(level)
    # kafka-python logs every reconnect attempt at INFO/WARNING; keep our own lines readable.
    logging.getLogger("kafka").setLevel(max(logging.WARNING, logging.getLevelName(level)))
