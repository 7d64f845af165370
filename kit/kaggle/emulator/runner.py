"""Sandbox kernel execution: run a pushed notebook the way Kaggle would, but on this machine.

A run gets its own folder: `input/` (the simulated /kaggle/input: dataset versions at <slug>/, competition
files at <competition>/ and competitions/<competition>/, models at <model>/<framework>/<variation>/<version>/),
`working/` (the cwd, whose files become the kernel output), the executed notebook and a Kaggle-style log.

The notebook executes in a child process (`python -m kit.kaggle.emulator.runner RUN_DIR`) that calls
`kit.notebooks.execute`: the child can be killed when the kernel's session timeout passes, and its
environment (offline, no proxy, no credentials) cannot leak into the server's threads.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# Environment a kernel never sees: credentials, proxies, the kit's own sandbox switch.
_SCRUB = ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_API_ENVIRONMENT", "KAGGLE_CONFIG_DIR",
          "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "KIT_KAGGLE")
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "KAGGLE_KERNEL_RUN_TYPE": "Batch", "PYTHONUNBUFFERED": "1"}


def mount(link: Path, target: Path) -> None:
    """Expose `target` at `link` (a symlink: read-only in spirit, free in space)."""
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.exists() or link.is_symlink():
        return  # first source wins, as a duplicate slug would on Kaggle
    link.symlink_to(target.resolve(), target_is_directory=target.is_dir())


def prepare_run(run_dir: Path, *, text: str, kernel_type: str, mounts: dict[str, Path], timeout: float,
                rerun: bool) -> Path:
    """Lay out a run folder (input tree, working dir, source, run.json) and return it."""
    if run_dir.exists():
        shutil.rmtree(run_dir)
    (run_dir / "working").mkdir(parents=True)
    (run_dir / "input").mkdir()
    for rel, target in mounts.items():
        mount(run_dir / "input" / rel, target)
    source = run_dir / ("source.ipynb" if kernel_type == "notebook" else "source.py")
    source.write_text(text, encoding="utf-8")
    spec = {"source": source.name, "kernel_type": kernel_type, "timeout": timeout, "rerun": rerun}
    (run_dir / "run.json").write_text(json.dumps(spec, indent=1))
    return run_dir


def execute_run(run_dir: Path) -> dict[str, Any]:
    """Run a prepared folder in a child process, honouring its timeout; returns {status, failureMessage}."""
    spec = json.loads((run_dir / "run.json").read_text())
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env.update(OFFLINE_ENV)
    if spec["rerun"]:
        env["KAGGLE_IS_COMPETITION_RERUN"] = "true"
    stderr_path = run_dir / "runner.stderr"
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "kit.kaggle.emulator.runner", str(run_dir)],
                                cwd=run_dir / "working", env=env, stdout=err, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            proc.wait(timeout=float(spec["timeout"]))
        except subprocess.TimeoutExpired:
            _kill(proc)
            result = {"status": "ERROR",
                      "failureMessage": f"Kernel ran past its session timeout of {spec['timeout']:.0f} s"}
            _write_log(run_dir, result["failureMessage"])
            return result
    result_path = run_dir / "result.json"
    if result_path.exists():
        return json.loads(result_path.read_text())
    tail = stderr_path.read_text(errors="replace")[-500:]
    return {"status": "ERROR", "failureMessage": f"kernel process died (exit {proc.returncode}): {tail}"}


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


# ---------------------------------------------------------------------------- the child process


def _child(run_dir: Path) -> int:
    spec = json.loads((run_dir / "run.json").read_text())
    source = run_dir / spec["source"]
    working = run_dir / "working"
    started = time.time()
    try:
        if spec["kernel_type"] == "notebook":
            _run_notebook(source, run_dir, working)
        else:
            _run_script(source, working)
        result = {"status": "COMPLETE", "failureMessage": ""}
    except Exception as exc:  # any failure is the kernel's ERROR, reported with its message
        result = {"status": "ERROR", "failureMessage": str(exc)}
    _write_log(run_dir, result["failureMessage"], started)
    (run_dir / "result.json").write_text(json.dumps(result))
    return 0


def _run_notebook(source: Path, run_dir: Path, working: Path) -> None:
    from kit import notebooks

    # Only the input root is re-injected: the emulator's input tree is not at /kaggle/input.
    params = {}
    if "input_dir" in notebooks.parameters(source):
        params["input_dir"] = str(run_dir / "input")
    notebooks.execute(source, run_dir / "executed.ipynb", params, cwd=working)


def _run_script(source: Path, working: Path) -> None:
    proc = subprocess.run([sys.executable, str(source)], cwd=working, capture_output=True, text=True)
    (working.parent / "script.out").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise RuntimeError(f"script failed: {last}")


def _write_log(run_dir: Path, failure: str, started: float | None = None) -> None:
    """A Kaggle-style log: a JSON list of {stream_name, time, data} entries from the run's outputs."""
    started = started or time.time()
    entries = []
    executed = run_dir / "executed.ipynb"
    if executed.exists():
        nb = json.loads(executed.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream":
                    text = out.get("text", "")
                    entries.append({"stream_name": out.get("name", "stdout"),
                                    "data": "".join(text) if isinstance(text, list) else text})
                elif out.get("output_type") == "error":
                    entries.append({"stream_name": "stderr",
                                    "data": f"{out.get('ename')}: {out.get('evalue')}\n"})
    script_out = run_dir / "script.out"
    if script_out.exists():
        entries.append({"stream_name": "stdout", "data": script_out.read_text(errors="replace")})
    if failure:
        entries.append({"stream_name": "stderr", "data": failure + "\n"})
    for entry in entries:
        entry["time"] = round(time.time() - started, 3)
    (run_dir / "log.json").write_text(json.dumps(entries))


def output_files(run_dir: Path) -> list[str]:
    """Relative names of the files the run left in its working dir."""
    working = run_dir / "working"
    if not working.is_dir():
        return []
    return sorted(str(p.relative_to(working)) for p in working.rglob("*") if p.is_file())


def run_log(run_dir: Path) -> str:
    """The run's log text (Kaggle's JSON form), or '' before it exists."""
    path = run_dir / "log.json"
    return path.read_text() if path.exists() else ""


if __name__ == "__main__":  # pragma: no cover - exercised through execute_run
    sys.exit(_child(Path(sys.argv[1])))
