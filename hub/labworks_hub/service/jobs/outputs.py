"""What the platform adds to an output notebook: a note on the cell a stopped attempt ran."""

from __future__ import annotations

import html
import json


def mark_stopped_cell(raw: bytes, reason: str) -> bytes | None:
    """The output notebook with a red note before the cell that was running when the attempt
    stopped (papermill marks a cell that raised itself); None when there is nothing to mark."""
    try:
        notebook = json.loads(raw)
        cells = notebook["cells"]
    except (ValueError, KeyError, TypeError):
        return None
    if any("papermill-error-cell-tag" in c.get("metadata", {}).get("tags", []) for c in cells):
        return None
    index = next(
        (i for i, c in enumerate(cells)
         if c.get("metadata", {}).get("papermill", {}).get("status") == "running"),
        None,
    )  # fmt: skip
    if index is None:
        return None
    note = (
        '<span id="labworks-stopped-cell" style="color:red; font-size:1.5em;">'
        f"The job stopped while running the next cell: {html.escape(reason, quote=False)}</span>"
    )
    cells.insert(
        index,
        {"cell_type": "markdown", "id": f"labworks-stopped-{index}", "source": note,
         "metadata": {"tags": ["labworks-stopped-cell"]}},
    )  # fmt: skip
    return json.dumps(notebook, indent=1).encode()
