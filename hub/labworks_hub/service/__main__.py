"""`python -m labworks_hub.service`: run the platform service under uvicorn (the hub does)."""

from __future__ import annotations

import copy
import logging
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from ..redaction import RedactSecrets
from .app import create_app
from .settings import ServiceSettings


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with secret query parameters (OAuth code and state, tokens) hidden in
    every line it writes, its access log's URLs included. Like jupyter_server, the access log
    leaves out plain successes (2xx, 304): a training loop's thousands of MLflow calls would
    drown it, and cost every call a line written and relayed by the hub."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"secrets": {"()": RedactSecrets}, "successes": {"()": NoPlainSuccesses}}
    for handler in config["handlers"].values():
        handler["filters"] = ["secrets"]
    config["handlers"]["access"]["filters"] = ["successes", "secrets"]
    return config


class NoPlainSuccesses(logging.Filter):
    """Drops uvicorn access records of 2xx and 304 answers; passes every other record."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        status = args[4] if isinstance(args, tuple) and len(args) == 5 else None
        return not isinstance(status, int) or not (200 <= status < 300 or status == 304)


def main() -> None:
    ours = logging.StreamHandler()
    ours.addFilter(RedactSecrets())
    logging.basicConfig(
        level=logging.INFO,
        format="[%(levelname)1.1s %(asctime)s labworks] %(message)s",
        handlers=[ours],
    )
    settings = ServiceSettings.from_env()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=log_config(),
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        loop="uvloop",  # with httptools: half a millisecond less per inference call
        http="httptools",
    )


if __name__ == "__main__":
    main()
