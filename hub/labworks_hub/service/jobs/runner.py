"""`python runner.py DIR` (this file run as a script): one attempt of a notebook job.

The LocalExecutor starts this in its own session, as the job's account, so it outlives a
restart of the platform service. DIR is the job's own folder (the attempt's `job/`). It writes
its pid and start time to `DIR/pid`, reads `DIR/spec.json` and `DIR/input.ipynb`, runs
papermill (which saves `DIR/output.ipynb` as cells start and end, and marks the failing cell
when one raises), logs to its stdout/stderr (the executor opened them on the attempt's
`log.txt`, a file of the platform's outside DIR that the job cannot replace), and at the end
writes `DIR/result.json` atomically (`{"status": "succeeded" | "failed", "reason": ...}`).
The platform reads these files without following links and only while they are plain files of
the job's account (labworks_hub.userfiles); it may not run as root, so they are written with
umask 027 into DIR, whose group (setgid, mode 2750) is the platform account's. Only papermill
and the standard library are imported here, to start as fast as bare papermill.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

RESULT, PID = "result.json", "pid"


def _stop(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def run(directory: Path) -> dict[str, Any]:
    spec = json.loads((directory / "spec.json").read_text())
    import papermill
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(directory / "input.ipynb"),
            str(directory / "output.ipynb"),
            parameters=spec.get("parameters") or {},
            kernel_name=spec.get("kernel_name") or None,
            cwd=spec.get("cwd") or None,
            log_output=True,
            progress_bar=False,
            request_save_on_cell_execute=True,
            autosave_cell_every=10,
        )
    except PapermillExecutionError as e:
        return {
            "status": "failed",
            "reason": f"cell {e.exec_count} raised {e.ename}: {e.evalue}".strip(),
            "cell_index": e.cell_index,
        }
    except DeadKernelError:
        return {
            "status": "failed",
            "reason": "the kernel died while running a cell (killed by a signal, or out of memory)",
        }
    except CellTimeoutError as e:
        return {"status": "failed", "reason": f"a cell timed out: {e}"}
    except NoSuchKernel as e:
        return {"status": "failed", "reason": f"no kernel named {e.name!r} is installed"}
    except KeyboardInterrupt as e:
        return {"status": "failed", "reason": str(e) or "interrupted"}
    except Exception as e:  # anything papermill or the kernel raised: say it in one line
        logging.exception("The job failed")
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        return {"status": "failed", "reason": f"{type(e).__name__}: {first}".rstrip(": ")}
    return {"status": "succeeded", "reason": ""}


def write_result(directory: Path, result: dict[str, Any]) -> None:
    temporary = directory / (RESULT + ".tmp")
    temporary.write_text(json.dumps(result))
    os.replace(temporary, directory / RESULT)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {sys.executable} {__file__} DIR", file=sys.stderr)
        return 2
    directory = Path(argv[1])
    os.umask(0o027)  # DIR is setgid to the platform's group: what it writes, the platform reads
    stat = Path("/proc/self/stat").read_text()
    start_ticks = stat[stat.rindex(")") + 2 :].split()[19]
    (directory / PID).write_text(f"{os.getpid()} {start_ticks}")  # found again after a restart
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    signal.signal(signal.SIGTERM, _stop)
    result = run(directory)
    write_result(directory, result)
    if result["status"] != "succeeded":
        logging.error("Job failed: %s", result["reason"])
    return 0 if result["status"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
