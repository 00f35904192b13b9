"""`labworks profiles`: the workspace profiles jobs run on, and whether you can use each here.

Talks to the platform API (LABWORKS_URL, LABWORKS_TOKEN).
"""

from __future__ import annotations

import click

from .client import call, echo_json, json_option


def _resources(profile: dict) -> str:
    """`2 CPU, 4 GiB, 1 GPU (H100)`; `-` for what is not limited."""
    cpu = profile["cpu_limit"]
    memory = profile["mem_limit"]
    parts = [
        f"{cpu:g} CPU" if cpu else "CPU -",
        f"{memory / 2**30:g} GiB" if memory else "memory -",
    ]
    if profile["gpu_count"]:
        model = f" ({profile['gpu_model']})" if profile["gpu_model"] else ""
        parts.append(f"{profile['gpu_count']} GPU{model}")
    return ", ".join(parts)


@click.command()
@json_option
def profiles(as_json: bool) -> None:
    """List the profiles jobs can run on: name, CPU, memory, GPUs, and why one cannot be used
    (`*` marks the default, the one a job gets without --profile)."""
    listing = call("GET", "profiles")
    if as_json:
        echo_json(listing)
        return
    rows = [
        (
            ("* " if p["default"] else "  ") + p["name"],
            _resources(p),
            p["display_name"],
            "" if p["available"] else f"unavailable: {p['reason']}",
        )
        for p in listing["profiles"]
    ]
    if not rows:
        click.echo("No profiles.")
        return
    widths = [max(len(row[n]) for row in rows) for n in range(3)]
    for row in rows:
        padded = [v.ljust(w) for v, w in zip(row[:3], widths, strict=True)]
        click.echo("  ".join([*padded, row[3]]).rstrip())
