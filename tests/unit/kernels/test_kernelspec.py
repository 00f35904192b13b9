"""The "Python 3 (Labworks)" kernel spec: installed with the package, starts with the SDK loaded."""

from __future__ import annotations

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import start_new_kernel


def test_the_labworks_kernel_spec_is_installed() -> None:
    spec = KernelSpecManager().get_kernel_spec("labworks-python3")
    assert spec.display_name == "Python 3 (Labworks)"
    assert spec.language == "python"
    assert "--IPKernelApp.exec_lines=import labworks" in spec.argv


def test_the_kernel_starts_with_the_sdk_imported() -> None:
    outputs: list[dict] = []
    km, kc = start_new_kernel(kernel_name="labworks-python3", startup_timeout=60)
    try:
        reply = kc.execute_interactive(
            "import os, sys; print('labworks' in sys.modules, os.environ['LABWORKS_KERNEL'])",
            timeout=30,
            output_hook=outputs.append,
        )
        assert reply["content"]["status"] == "ok"
        text = "".join(m["content"].get("text", "") for m in outputs)
        assert text.strip() == "True 1"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
