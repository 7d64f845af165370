"""The kernel driver: what runs inside a sandbox kernel's namespaces (`python -m kit.kaggle.emulator.driver SRC
WORKING INPUT`, started by kit.kaggle.emulator.runner).

It executes the run's notebook with papermill on the stand-in image's kernelspec (parameters injected only when the
caller passed some), or its script with the image's interpreter, then writes the Kaggle-style log and result.json.
A module of its own, which nothing imports, because `python -m` of a module that its package's import has already
loaded (the emulator package loads the runner) makes runpy warn on every run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kit.kaggle.emulator.runner import KAGGLE_INPUT, KERNEL_NAME, write_log


def _where(input_dir: Path) -> str:
    """One log line saying, from inside the kernel's namespaces, what network and inputs it has."""
    import socket

    from kit.kernel.inputs import listing

    nets = ", ".join(sorted(name for _, name in socket.if_nameindex()))
    return f"sandbox kernel: network interfaces {nets}; {listing(input_dir)}"


def main(src: Path, working: Path, input_dir: Path) -> int:
    """Run the kernel described by src/run.json; its outcome goes to src/result.json and src/log.json."""
    spec = json.loads((src / "run.json").read_text())
    source = src / spec["source"]
    started = time.time()
    if not spec.get("notice"):
        spec["notice"] = _where(input_dir)
    try:
        if spec["kernel_type"] == "notebook":
            _run_notebook(source, src, working, input_dir, spec["params"])
        else:
            _run_script(source, src, working)
        result = {"status": "COMPLETE", "failureMessage": ""}
    except Exception as exc:  # any failure is the kernel's ERROR, reported with its message
        result = {"status": "ERROR", "failureMessage": str(exc)}
    write_log(src, result["failureMessage"], started, notice=spec.get("notice", ""))
    (src / "result.json").write_text(json.dumps(result))
    return 0


def _run_notebook(source: Path, src: Path, working: Path, input_dir: Path, params: dict[str, Any]) -> None:
    from kit import notebooks

    params = dict(params)
    if str(input_dir) != KAGGLE_INPUT and "input_dir" in notebooks.parameters(source):
        params["input_dir"] = str(input_dir)  # degraded: the inputs are not at /kaggle/input
    stream = bool(json.loads((src / "run.json").read_text()).get("stream"))
    notebooks.execute(source, src / "executed.ipynb", params, cwd=working, kernel=KERNEL_NAME, stream=stream,
                      quiet_kernel=stream)


def _run_script(source: Path, src: Path, working: Path) -> None:
    spec = json.loads((src / "jupyter" / "kernels" / KERNEL_NAME / "kernel.json").read_text())
    proc = subprocess.run([spec["argv"][0], str(source)], cwd=working, capture_output=True, text=True)
    (src / "script.out").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise RuntimeError(f"script failed: {last}")


if __name__ == "__main__":  # pragma: no cover - exercised through runner.execute_run
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
