"""The `labworks` command line as a whole: its commands load what they use, and no more."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from labworks_hub.cli import COMMANDS, cli

SERVER_SIDE = ("jupyterhub", "sqlalchemy", "jsonschema", "fastapi", "labworks_hub.service")


def test_a_client_command_loads_no_server_side_module():
    """`labworks jobs ...` is a REST client: importing the hub, the store or the service for it
    cost two seconds of CPU a command."""
    probe = (
        "import sys\n"
        "from labworks_hub.cli import cli\n"
        "cli(['jobs', 'list', '--help'], standalone_mode=False)\n"
        f"print([m for m in {SERVER_SIDE!r} if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_every_command_is_listed_and_loads():
    listed = CliRunner().invoke(cli, ["--help"])
    assert listed.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in listed.output
        shown = CliRunner().invoke(cli, [name, "--help"])
        assert shown.exit_code == 0, (name, shown.output)


def test_the_serving_commands_extend_models():
    shown = CliRunner().invoke(cli, ["models", "--help"])
    assert {"serve", "predict", "traffic", "versions"} <= set(shown.output.split())


def test_version():
    shown = CliRunner().invoke(cli, ["--version"])
    assert shown.exit_code == 0 and shown.output.startswith("labworks, version ")
