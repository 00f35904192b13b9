"""The service's background loops (jobs, sweeps, serving, payload logs, the cost meter, the image
catalog): each runs as an asyncio task from the app's start and is stopped the same way."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel(task: asyncio.Task | None) -> None:
    """Cancel a loop and wait until it has stopped; its CancelledError is the expected end."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
