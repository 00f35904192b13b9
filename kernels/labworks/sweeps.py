"""Sweeps from a notebook: start one, read it, watch it live.

    from labworks import sweeps

    s = sweeps.create("train.ipynb", space={"lr": {"type": "log-float", "low": 1e-4,
                      "high": 0.1}}, metric="val_loss", trials=20, parallel=2)
    sweeps.watch(s["id"])            # a live progress widget (ipywidgets) under the cell
    sweeps.show(s["id"])["best_params"]

``create`` sends the notebook file as saved (run its parameters cell as the sweep will). Every
function talks to the platform API of this workspace or job (``labworks.api``); a refusal is a
``SweepError`` with the platform's message, e.g. the field of the space at fault.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .api import Api, PlatformError

__all__ = [
    "SweepError", "create", "delete", "extend", "list_sweeps", "resume", "show", "stop", "watch",
]  # fmt: skip

ENDED = ("succeeded", "failed", "stopped")


class SweepError(PlatformError):
    """A sweep request failed; ``status`` is the platform's HTTP status, if it answered."""


def _api() -> Api:
    return Api.from_env("labworks.sweeps", SweepError)


def create(
    notebook: str | os.PathLike[str],
    space: Mapping[str, Any],
    metric: str,
    *,
    direction: str = "minimize",
    sampler: str = "tpe",
    trials: int = 20,
    parallel: int = 1,
    pruner: str = "none",
    parameters: Mapping[str, Any] | None = None,
    profile: str | None = None,
    budget_seconds: int | None = None,
    seed: int | None = None,
    name: str = "",
) -> dict[str, Any]:
    """Start a sweep of the notebook file; the sweep as the platform describes it."""
    path = Path(notebook)
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SweepError(f"cannot read {path} as a notebook: {e}") from None
    body = {
        "content": content, "path": str(path), "name": name, "space": dict(space),
        "metric": metric, "direction": direction, "sampler": sampler, "trials": trials,
        "parallel": parallel, "pruner": pruner, "parameters": dict(parameters or {}),
        "profile": profile, "budget_seconds": budget_seconds, "seed": seed,
    }  # fmt: skip
    return dict(_api().json("POST", "sweeps", body))


def show(sweep_id: str) -> dict[str, Any]:
    """Status, counts, best value and parameters, and every trial."""
    return dict(_api().json("GET", f"sweeps/{_checked(sweep_id)}"))


def list_sweeps() -> list[dict[str, Any]]:
    """Your sweeps and your groups', newest first."""
    return list(_api().json("GET", "sweeps")["sweeps"])


def stop(sweep_id: str) -> dict[str, Any]:
    return dict(_api().json("POST", f"sweeps/{_checked(sweep_id)}/stop"))


def resume(sweep_id: str) -> dict[str, Any]:
    return dict(_api().json("POST", f"sweeps/{_checked(sweep_id)}/resume"))


def extend(sweep_id: str, trials: int) -> dict[str, Any]:
    return dict(_api().json("POST", f"sweeps/{_checked(sweep_id)}/extend", {"trials": trials}))


def delete(sweep_id: str) -> None:
    """Delete the sweep with its trials and study (a running one is stopped first); its
    trials' jobs and MLflow runs stay."""
    with _api().open("DELETE", f"sweeps/{_checked(sweep_id)}"):
        pass


def summary(sweep: Mapping[str, Any]) -> str:
    """One line of progress: status, counts, best value, time left."""
    counts = sweep["counts"]
    done = counts["complete"] + counts["pruned"]
    text = (
        f"{sweep['name']}: {sweep['status']} · {done}/{sweep['trials']} done"
        f" · {counts['running']} running · {counts['pruned']} pruned · {counts['fail']} failed"
    )
    if sweep.get("best_value") is not None:
        text += f" · best {sweep['metric']} = {sweep['best_value']:.6g}"
    if sweep.get("eta_seconds"):
        text += f" · about {round(sweep['eta_seconds'])} s left"
    return text


def watch(sweep_id: str, interval: float = 2.0) -> Any:
    """A widget under the cell showing the sweep's progress and best trial, refreshed in the
    background until the sweep ends; returns it (display happens when it is the cell's
    value). Needs ipywidgets, which Labworks kernels have."""
    import ipywidgets as widgets  # only here: a script need not have it

    sweep = show(sweep_id)
    bar = widgets.IntProgress(min=0, max=max(1, sweep["trials"]), description="Trials")
    line = widgets.HTML()
    best = widgets.HTML()
    box = widgets.VBox([bar, line, best])

    def render(current: Mapping[str, Any]) -> None:
        counts = current["counts"]
        bar.max = max(1, current["trials"])
        bar.value = min(bar.max, counts["complete"] + counts["pruned"])
        bar.bar_style = {"succeeded": "success", "failed": "danger"}.get(current["status"], "")
        line.value = f"<code>{_escape(summary(current))}</code>"
        if current.get("best_params") is not None:
            best.value = (
                f"best parameters: <code>{_escape(json.dumps(current['best_params']))}</code>"
            )
        elif current.get("reason"):
            best.value = _escape(current["reason"])

    def follow() -> None:
        current = sweep
        while current["status"] not in ENDED:
            time.sleep(interval)
            try:
                current = show(sweep_id)
            except SweepError as e:
                line.value = _escape(f"cannot read the sweep: {e}")
                return
            render(current)

    render(sweep)
    threading.Thread(target=follow, name=f"labworks-sweep-{sweep_id}", daemon=True).start()
    return box


def _checked(sweep_id: str) -> str:
    if not (isinstance(sweep_id, str) and len(sweep_id) == 12 and sweep_id.isalnum()):
        raise SweepError(f"not a sweep id: {sweep_id!r} (12 characters, as `create` returns)")
    return sweep_id


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
