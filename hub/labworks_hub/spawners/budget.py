"""Whether a user's budgets let a GPU workspace start: the spawner asks the platform
(`GET /cost/check`, with the new server's own token), so the rule (what a spent budget refuses,
admins, overrides: service/cost/budgets.py) lives in one place and the spawner needs neither the
store nor the service's code. The platform not answering lets the workspace start (logged):
a budget is an accounting limit, not a security boundary.
"""

from __future__ import annotations

import logging

import httpx

log = logging.getLogger(__name__)


async def budget_refusal(api_url: str, token: str, *, gpu: bool, timeout: float = 10.0) -> str:
    """The platform's message when a spent budget refuses this workspace; '' when it may start
    (or the platform cannot tell)."""
    url = api_url.rstrip("/") + "/cost/check"
    params = {"kind": "workspace", "gpu": "true" if gpu else "false"}
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            reply = await client.get(
                url, params=params, headers={"Authorization": f"token {token}"}
            )
        found = reply.json() if reply.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as e:
        log.warning("Budget check at %s failed; the workspace starts: %s", url, e)
        return ""
    if not isinstance(found, dict):
        log.warning("Budget check at %s answered %s; the workspace starts", url, reply.status_code)
        return ""
    return "" if found.get("allowed", True) else str(found.get("message") or "over budget")
