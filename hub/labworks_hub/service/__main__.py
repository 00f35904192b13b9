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
    every line it writes, its access log's URLs included."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"secrets": {"()": RedactSecrets}}
    for handler in config["handlers"].values():
        handler["filters"] = ["secrets"]
    return config


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
    )


if __name__ == "__main__":
    main()
