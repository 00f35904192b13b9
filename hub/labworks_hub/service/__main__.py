"""`python -m labworks_hub.service`: run the platform service under uvicorn (the hub does)."""

from __future__ import annotations

import logging

import uvicorn

from .app import create_app
from .settings import ServiceSettings


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="[%(levelname)1.1s %(asctime)s labworks] %(message)s"
    )
    settings = ServiceSettings.from_env()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
    )


if __name__ == "__main__":
    main()
