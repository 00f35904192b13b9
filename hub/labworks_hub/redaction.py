"""Secrets kept out of logs: the values of secret query parameters in logged URLs."""

from __future__ import annotations

import logging
import re
from typing import Any

# Query parameters whose name holds one of these are secrets (as JupyterHub scrubs its log).
_NAME_TO_HIDE = r"[^=&\s\"'%]*(?:code|state|token|xsrf|auth|key)[^=&\s\"'%]*"
_SECRET_PARAM = re.compile(rf"([?&]{_NAME_TO_HIDE}=)[^&\s\"'#]*", re.I)
# The same inside a URL-encoded URL (the hub's `/hub/login?next=...%26state%3D...`).
_ENCODED_SECRET_PARAM = re.compile(rf"((?:%3F|%26){_NAME_TO_HIDE}%3D)(?:(?!%26)[^&\s\"'#])*", re.I)


def redact(text: str) -> str:
    """`text` with the values of secret query parameters (OAuth code and state, tokens,
    _xsrf) replaced by `[secret]`, also where a URL is itself a parameter's value."""
    text = _SECRET_PARAM.sub(r"\1[secret]", text)
    return _ENCODED_SECRET_PARAM.sub(r"\1[secret]", text)


class RedactSecrets(logging.Filter):
    """A log filter hiding secret query parameters: access logs print every URL with its
    query, the OAuth callback's code and state included."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(a) for a in record.args)
        return True


def _redacted(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def redact_hub_log() -> None:
    """Hide secrets in the hub's request log (JupyterHub scrubs a URL's own query, not a URL
    given as `next=`)."""
    from tornado.log import access_log, app_log

    for logger in (access_log, app_log):
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
