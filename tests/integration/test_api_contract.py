"""The platform API against its own OpenAPI schema, from outside: Schemathesis (a fuzzer no one
here wrote) sends generated requests, valid and invalid, with and without a token, to a real
`labworks up` of its own (fuzzed shares and schedules stay out of the shared platform) and
checks each answer: never a 5xx, only documented status codes, content types, headers and
bodies that match the schema, invalid input refused, nothing answered without authentication,
`Allow` on 405.

Not checked: `positive_data_acceptance` ("schema-valid means accepted"). Some rules cannot be
written in JSON Schema (a notebook's content, a cron expression, a hub group's existence), so
schema-valid requests are rightly refused with a 400 and a message saying why."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.platform import API, Platform

pytestmark = pytest.mark.e2e
SCHEMATHESIS = Path(sys.executable).with_name("st")
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
]


@pytest.fixture(scope="module")
def own_platform():
    base = Path(tempfile.mkdtemp(prefix="lw-contract-", dir="/tmp"))
    base.chmod(0o711)
    platform = Platform(base / "lw").start()
    yield platform
    platform.stop()
    shutil.rmtree(base)


def test_the_api_keeps_its_openapi_contract_under_fuzzing(own_platform, tmp_path):
    own_platform.add_user("fuzzer")
    token = own_platform.token("fuzzer")
    run = subprocess.run(
        [
            str(SCHEMATHESIS), "run", own_platform.url + API + "/openapi.json",
            "--header", f"Authorization: token {token}",
            "--checks", ",".join(CHECKS),
            "--max-examples", "25",
            "--seed", "20261123",
            "--workers", "1",
            "--request-timeout", "60",
            "--suppress-health-check", "all",
            "--report", "junit", "--report-dir", str(tmp_path),
        ],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    summary = run.stdout[run.stdout.find("SUMMARY") :]
    assert "API Operations" in summary, run.stdout[-4000:] + run.stderr[-2000:]
    assert run.returncode == 0, run.stdout[-12000:]
