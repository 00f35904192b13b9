"""New notebooks get the "Python 3 (Labworks)" kernel unless the operator chose another."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

SPEC = Path(__file__).resolve().parents[3] / "kernels" / "labworks" / "kernelspec"


@pytest.fixture
def jp_server_config(jp_server_config: Config, jp_data_dir: Path) -> Config:
    """The server's (isolated) data dir holds the Labworks kernel spec, as an install does."""
    shutil.copytree(SPEC, jp_data_dir / "kernels" / "labworks-python3")
    return jp_server_config


async def default_kernel(jp_fetch: Any) -> str:
    return json.loads((await jp_fetch("api", "kernelspecs")).body)["default"]


async def test_the_labworks_kernel_is_the_default(jp_fetch: Any) -> None:
    assert await default_kernel(jp_fetch) == "labworks-python3"


class TestOperatorChoiceWins:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: Config) -> Config:
        jp_server_config["MappingKernelManager"] = Config({"default_kernel_name": "python3"})
        return jp_server_config

    async def test_configured_default_is_kept(self, jp_fetch: Any) -> None:
        assert await default_kernel(jp_fetch) == "python3"
