"""Every log line as the product writes it, for tests that prove what never reaches a log."""
from __future__ import annotations

import contextlib
import io
import logging

from libs.common.observability import JsonFormatter


@contextlib.contextmanager
def captured_logs():
    """Every log line as the product writes it (the JSON formatter every service process installs)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
