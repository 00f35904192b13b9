"""`python runner.py DIR` (this file run as a script): one attempt of a notebook job.

The LocalExecutor starts this in its own session, as the job's account, so it outlives a
restart of the platform service. DIR is the job's own folder (the attempt's `job/`). It writes
its pid and start time to `DIR/pid`, reads `DIR/spec.json` and `DIR/input.ipynb`, starts the
kernel (IPC sockets in a private temporary folder, never TCP), runs papermill in it (which
saves `DIR/output.ipynb` as cells start and end, and marks the failing cell when one raises),
logs to its stdout/stderr (the executor opened them on the attempt's `log.txt`, a file of the
platform's outside DIR that the job cannot replace), and at the end writes `DIR/result.json`
atomically (`{"status": "succeeded" | "failed", "reason": ...}`).
The platform reads these files without following links and only while they are plain files of
the job's account (labworks_hub.userfiles); it may not run as root, so they are written with
umask 027 into DIR, whose group (setgid, mode 2750) is the platform account's. Only papermill,
jupyter_client and the standard library are imported here, to start as fast as bare papermill.

`python runner.py --warm KERNEL DIR` is a warm kernel (labworks_hub.kernel_pool): it starts
KERNEL, waits until it answers, then reads one line from its stdin, the launcher's claim
`{"files", "spec", "notebook", "env", "cwd"}`: the job folder its slot became, the job's spec
and notebook (written there as the account, then read as above), its whole environment and
working folder, which the runner and the kernel take before papermill runs. The kernel serves
that one job and is shut down after it. End of input, or `--idle` seconds without a claim:
it shuts the kernel down and exits without a result.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

RESULT, PID, SPEC, INPUT = "result.json", "pid", "spec.json", "input.ipynb"
KERNEL_START_TIMEOUT = 60  # seconds for a kernel to answer
ENTER_TIMEOUT = 10  # seconds for a warm kernel, idle, to take its job
SHUTDOWN_WAIT = 10  # seconds a kernel has to end on its own when the job is done
ENTER = """\
def _labworks_enter(path):
    import json, os
    with open(path) as file:
        job = json.load(file)
    os.remove(path)
    for name in job["drop"]:
        os.environ.pop(name, None)
    os.environ.update(job["env"])
    os.chdir(job["cwd"])
_labworks_enter({path!r})
del _labworks_enter
"""  # run silently in a warm kernel when a job claims it (Kernel.enter)


def _stop(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signum}")


# Optional imports this process never needs, made to fail as if the packages were not there:
# jsonschema's `rfc3987_syntax` (which nbformat pulls in) builds a parser grammar for about a
# second for a format checker notebooks never use; papermill's S3, Azure, GCS, HDFS and GitHub
# handlers import their SDKs when installed (pyarrow and numpy: 0.15 s of CPU a job), and the
# runner reads and writes local files only. The kernel is another process: it imports anything.
NOT_IMPORTED = ("rfc3987_syntax", "pyarrow", "boto3", "gcsfs", "azure", "github")


# ipykernel_launcher, less the debugger: a batch job has no debugger client, and importing
# debugpy is 80 ms of a one-cell job's CPU. ipykernel tells that debugpy is missing and starts
# without it, as where it is not installed (its `debugger` kernelspec flag is only a hint).
NO_DEBUGGER_KERNEL = """\
import sys
if sys.path[0] == "":
    del sys.path[0]  # as ipykernel_launcher: IPython puts it back for the notebook
sys.modules["debugpy"] = None
from ipykernel import kernelapp
kernelapp.launch_new_instance()
"""


def skip_slow_imports() -> None:
    for name in NOT_IMPORTED:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


class Kernel:
    """The attempt's kernel, started here and handed to papermill; used once."""

    def __init__(self, kernel_name: str) -> None:
        from jupyter_client.asynchronous import AsyncKernelClient
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        class ReadyClient(AsyncKernelClient):
            """Connects and waits for the kernel once: papermill's own wait would spend
            another 0.2 s flushing the IOPub channel of a kernel that is ready already."""

            ready = False

            def start_channels(self, *args: Any, **kwargs: Any) -> None:
                if not self.channels_running:
                    super().start_channels(*args, **kwargs)

            async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
                if not self.ready:
                    await super()._async_wait_for_ready(timeout)
                    self.ready = True

            wait_for_ready = _async_wait_for_ready

        class Manager(AsyncKernelManager):
            ready_client: AsyncKernelClient | None = None

            def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
                """IPython's own kernel is started without its debugger (below)."""
                command = super().format_kernel_cmd(extra_arguments)
                if command[1:3] == ["-m", "ipykernel_launcher"]:
                    command[1:3] = ["-c", NO_DEBUGGER_KERNEL]
                return command

            def client(self, **kwargs: Any) -> AsyncKernelClient:  # type: ignore[override]
                """The one client, connected and ready (its parent: this manager, which
                tells whether the kernel lives from its process, not from heartbeats)."""
                if self.ready_client is None:
                    self.ready_client = super().client(**kwargs)
                return self.ready_client

        self.run = run_sync
        self.folder = tempfile.mkdtemp(prefix="labworks-kernel-")  # 0700, the account's
        self.manager = Manager(
            kernel_name=kernel_name, transport="ipc", ip=os.path.join(self.folder, "k"),
            connection_file=os.path.join(self.folder, "kernel.json"), client_factory=ReadyClient,
        )  # fmt: skip

    def start(self, private_ipython: bool = False) -> None:
        """Start the kernel and wait until it answers; `private_ipython`: IPython's files
        (its history database) in the kernel's private folder, not under HOME."""
        env = {**os.environ, "IPYTHONDIR": os.path.join(self.folder, "ipython")}
        self.run(self.manager.start_kernel)(**({"env": env} if private_ipython else {}))
        client = self.manager.client()
        client.start_channels()
        self.run(client.wait_for_ready)(timeout=KERNEL_START_TIMEOUT)

    def enter(self, env: dict[str, str], drop: list[str], cwd: str) -> None:
        """Give the kernel the job's environment and working folder (a silent execution: no
        history, no output); `drop`: variables it has that the job has not. The values go
        through a private file, never in the code, which a traceback would show."""
        if not self.run(self.manager.is_alive)():
            raise RuntimeError("the kernel has died")
        path = os.path.join(self.folder, "job.json")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as job:
            json.dump({"env": env, "drop": drop, "cwd": cwd}, job)
        reply = self.run(self.manager.client().execute_interactive)(
            ENTER.format(path=path), silent=True, store_history=False, timeout=ENTER_TIMEOUT
        )
        content = reply["content"]
        if content["status"] != "ok":
            raise RuntimeError(f"{content.get('ename')}: {content.get('evalue')}")

    def shutdown(self) -> None:
        """Ask the kernel to shut down, so it ends as a kernel does (exit handlers run:
        MLflow ends the runs the notebook left open, files left open are flushed), wait up
        to SHUTDOWN_WAIT seconds, then kill its process group with whatever it left behind."""
        try:
            provisioner = self.manager.provisioner
            if provisioner is None or not provisioner.has_process:
                return
            process = getattr(provisioner, "process", None)  # a local kernel's Popen
            if process is not None and process.poll() is None:
                with contextlib.suppress(Exception):  # it may be gone already
                    self.run(self.manager.request_shutdown)()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(SHUTDOWN_WAIT)  # the provisioner's own wait polls each 0.1 s
            self.run(provisioner.kill)()
            if process is not None:
                process.wait()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def run(directory: Path, kernel: Kernel | None) -> dict[str, Any]:
    spec = json.loads((directory / SPEC).read_text())
    import papermill
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    try:
        if kernel is None:
            kernel = Kernel(spec["kernel_name"])
            kernel.start()
        papermill.execute_notebook(
            str(directory / INPUT),
            str(directory / "output.ipynb"),
            parameters=spec.get("parameters") or {},
            kernel_name=spec.get("kernel_name") or None,
            cwd=spec.get("cwd") or None,
            km=kernel.manager,
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
    finally:
        if kernel is not None:
            kernel.shutdown()
    return {"status": "succeeded", "reason": ""}


def write_result(directory: Path, result: dict[str, Any]) -> None:
    temporary = directory / (RESULT + ".tmp")
    temporary.write_text(json.dumps(result))
    os.replace(temporary, directory / RESULT)


def write_pid(directory: Path) -> None:
    """Our pid and start time, by which the platform finds this process after a restart."""
    stat = Path("/proc/self/stat").read_text()
    start_ticks = stat[stat.rindex(")") + 2 :].split()[19]
    (directory / PID).write_text(f"{os.getpid()} {start_ticks}")


def wait_for_claim(
    slot: Path, kernel_name: str, idle: float | None
) -> tuple[Path, Kernel | None] | None:
    """A warm kernel's life until its claim: the job folder to run in, with the kernel in
    the job's environment (None: start another, this one cannot take it); None when no
    claim came (see the module docstring)."""
    import nbformat
    import papermill  # noqa: F401 (imported ahead, as the notebook's validator is compiled)
    from nbformat.validator import get_validator

    kernel, handed = Kernel(kernel_name), False
    try:
        # HOME in the slot (no workspace home): the slot is renamed when claimed, under the
        # history database IPython would keep open there.
        kernel.start(private_ipython=Path(os.environ.get("HOME", "/")).parent == slot)
        get_validator(nbformat.v4.nbformat, nbformat.v4.nbformat_minor)
        line = sys.stdin.readline() if select.select([sys.stdin], [], [], idle)[0] else ""
        if not line:
            return None  # idle for too long, or the launcher is gone
        claim = json.loads(line)
        directory, env, cwd = Path(claim["files"]), claim["env"], claim["cwd"]
        drop = [name for name in os.environ if name not in env]
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        write_pid(directory)
        (directory / SPEC).write_text(json.dumps(claim["spec"]))
        (directory / INPUT).write_text(claim["notebook"])
        try:
            kernel.enter(env, drop, cwd)
        except Exception as e:  # it died while waiting, say: the job starts another
            logging.warning("The warm kernel cannot take the job (%s); starting another", e)
            return directory, None
        handed = True
        return directory, kernel
    finally:
        if not handed:
            kernel.shutdown()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=argv[0], description=__doc__.split("\n\n")[0])
    parser.add_argument("--warm", metavar="KERNEL", help="start KERNEL, then wait for a job")
    parser.add_argument("--idle", type=float, help="seconds a warm kernel waits (default: on)")
    parser.add_argument("dir", type=Path)
    args = parser.parse_args(argv[1:])
    os.umask(0o027)  # DIR is setgid to the platform's group: what it writes, the platform reads
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    signal.signal(signal.SIGTERM, _stop)
    skip_slow_imports()
    directory, kernel = args.dir, None
    if not args.warm:
        write_pid(directory)  # found again after a restart (a warm one: once claimed)
    else:  # its folder may be claimed, and renamed, before it even gets here
        claimed = wait_for_claim(args.dir.parent, args.warm, args.idle)
        if claimed is None:
            return 0
        directory, kernel = claimed
    result = run(directory, kernel)
    write_result(directory, result)
    if result["status"] != "succeeded":
        logging.error("Job failed: %s", result["reason"])
    return 0 if result["status"] == "succeeded" else 1


if __name__ == "__main__":
    code = main(sys.argv)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # all is written: skip the interpreter's teardown (0.2 s of threads and zmq)
