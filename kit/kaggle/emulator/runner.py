"""Sandbox kernel execution: run a notebook or script the way Kaggle runs a kernel, on this machine.

A run folder holds `src/` (the source, run.json, the executed notebook, the Kaggle-style log, the result),
`working/` (the kernel's /kaggle/working, whose files become its output) and `image/` (the run's own stand-in
interpreter: kit.kaggle.isolation.build_image). The kernel runs under `unshare` in fresh user, mount and network
namespaces, where its inputs sit at /kaggle/input/... (mounted per the run's layout), /kaggle/working is the
cwd, there is no network and the kit is importable only once the kernel installs it. Where namespaces are
unavailable the same driver runs degraded, says so once in the log, and gets `input_dir` pointed at a symlink
tree under the run folder.

The driver (`python -m kit.kaggle.emulator.runner SRC WORKING INPUT`) executes notebooks with papermill on a
kernelspec whose interpreter is the stand-in image: any notebook runs (no `parameters` cell needed; parameters
are injected only when the caller passes some; any Python kernelspec maps to that kernel), scripts too.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.kaggle import isolation

KAGGLE_INPUT, KAGGLE_WORKING, KAGGLE_SRC = "/kaggle/input", "/kaggle/working", "/kaggle/src"
KERNEL_NAME = "kit-sandbox"  # the kernelspec every notebook is run on, whatever it names
TIMEOUT_MESSAGE = "Notebook Timeout"  # Kaggle's name for a kernel stopped at its session limit
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "KAGGLE_KERNEL_RUN_TYPE": "Batch", "PYTHONUNBUFFERED": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
# Taken from this machine into the kernel's otherwise fresh environment (locale and thread knobs only).
_PASS = ("LANG", "LC_ALL", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "TOKENIZERS_PARALLELISM")


def prepare_run(run_dir: Path, *, text: str, kernel_type: str, mounts: dict[str, Path], timeout: float,
                rerun: bool, params: dict[str, Any] | None = None, working: Path | None = None) -> Path:
    """Lay out a run folder: source and run.json under src/, an empty working folder; returns `run_dir`.

    `mounts` maps paths under /kaggle/input to host folders; `working` replaces run_dir/working (run-local
    writes its outputs straight into the user's folder); `params` are injected into a notebook."""
    if run_dir.exists():
        shutil.rmtree(run_dir)
    src = run_dir / "src"
    src.mkdir(parents=True)
    working = Path(working or run_dir / "working").resolve()
    working.mkdir(parents=True, exist_ok=True)
    source = src / ("source.ipynb" if kernel_type == "notebook" else "source.py")
    source.write_text(text, encoding="utf-8")
    spec = {"source": source.name, "kernel_type": kernel_type, "timeout": timeout, "rerun": rerun,
            "mounts": {rel: str(Path(p).resolve()) for rel, p in mounts.items()}, "params": params or {},
            "working": str(working)}
    (src / "run.json").write_text(json.dumps(spec, indent=1))
    return run_dir


def working_dir(run_dir: Path) -> Path:
    """The folder the run's kernel wrote its output into."""
    spec = json.loads((run_dir / "src" / "run.json").read_text())
    return Path(spec["working"])


def _kernel_env(image_python: Path, home: str, tmp: str | None, jupyter: Path, rerun: bool) -> dict[str, str]:
    """A fresh environment like a Kaggle kernel's: no credentials, proxies, PYTHONPATH or kit settings."""
    env = {k: os.environ[k] for k in _PASS if k in os.environ}
    env.update(OFFLINE_ENV, HOME=home, JUPYTER_PATH=str(jupyter),
               PATH=f"{image_python.parent}:/usr/local/bin:/usr/bin:/bin")
    if tmp:
        env["TMPDIR"] = tmp
    if rerun:
        env["KAGGLE_IS_COMPETITION_RERUN"] = "true"
    return env


def _kernelspec(src: Path, image_python: Path) -> Path:
    """A jupyter data folder whose only kernelspec runs ipykernel on the stand-in image."""
    root = src / "jupyter"
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [str(image_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (Kaggle stand-in)", "language": "python"}))
    return root


def _symlink_tree(input_dir: Path, mounts: dict[str, str]) -> None:
    for rel, target in sorted(mounts.items()):
        link = input_dir / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        if not (link.exists() or link.is_symlink()):  # first source wins, as a duplicate slug would on Kaggle
            link.symlink_to(target, target_is_directory=True)


def _launch(run_dir: Path, spec: dict[str, Any], image_python: Path) -> tuple[list[str], dict[str, str]]:
    """The command and environment that run the driver, isolated when this machine allows it."""
    src = run_dir / "src"
    problem = isolation.isolation_problem()
    if not problem:
        kit_root = Path(__file__).resolve().parents[3]  # the kit's source folder (an editable install reads it)
        hidden = _hidden_paths()
        env = _kernel_env(image_python, "/root", None, Path(KAGGLE_SRC) / "jupyter", spec["rerun"])
        inner = {"root": str(run_dir / "root"), "hide": [h for h in hidden if h], "mounts": spec["mounts"],
                 "keep": [sys.prefix, sys.base_prefix, str(kit_root)],
                 "image": str(run_dir / "image"), "working": spec["working"], "src": str(src), "env": env,
                 "argv": [sys.executable, "-m", "kit.kaggle.emulator.runner", KAGGLE_SRC, KAGGLE_WORKING,
                          KAGGLE_INPUT]}
        path = run_dir / "isolation.json"
        path.write_text(json.dumps(inner, indent=1))
        host_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        return isolation.command(path), host_env
    spec["notice"] = isolation.degraded_notice(problem)
    (src / "run.json").write_text(json.dumps(spec, indent=1))
    input_dir = run_dir / "input"
    _symlink_tree(input_dir, spec["mounts"])
    for name in ("home", "tmp"):
        (run_dir / name).mkdir(exist_ok=True)
    env = _kernel_env(image_python, str(run_dir / "home"), str(run_dir / "tmp"), src / "jupyter", spec["rerun"])
    return [sys.executable, "-m", "kit.kaggle.emulator.runner", str(src), spec["working"], str(input_dir)], env


def execute_run(run_dir: Path, *, stream: bool = False) -> dict[str, Any]:
    """Run a prepared folder, honouring its timeout; returns {status, failureMessage} as Kaggle reports them.

    `stream` echoes the kernel's progress lines (kit.notebooks' filter) to this process's stderr as they come."""
    src = run_dir / "src"
    spec = json.loads((src / "run.json").read_text())
    if stream:
        spec["stream"] = True
        (src / "run.json").write_text(json.dumps(spec, indent=1))
    image_python = isolation.build_image(run_dir / "image")
    _kernelspec(src, image_python)
    cmd, env = _launch(run_dir, spec, image_python)
    stderr_path = run_dir / "runner.stderr"
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(cmd, cwd=spec["working"], env=env, stdout=subprocess.PIPE if stream else err,
                                stderr=subprocess.STDOUT, start_new_session=True)
        tee = _tee(proc, err) if stream else None
        try:
            proc.wait(timeout=float(spec["timeout"]))
        except subprocess.TimeoutExpired:
            _kill(proc)
            result = {"status": "ERROR", "failureMessage": TIMEOUT_MESSAGE}
            _write_log(src, f"{TIMEOUT_MESSAGE}: stopped at the session limit of {spec['timeout']:.0f} s",
                       notice=spec.get("notice", ""))
            return result
        finally:
            if tee is not None:
                tee.join(timeout=5)
    result_path = src / "result.json"
    if result_path.exists():
        return json.loads(result_path.read_text())
    tail = stderr_path.read_text(errors="replace")[-500:]
    return {"status": "ERROR", "failureMessage": f"kernel process died (exit {proc.returncode}): {tail}"}


@dataclass(frozen=True)
class GatewayRun:
    """The evaluation gateway a served kernel's scoring re-run starts beside it, as Kaggle does: a separate process
    in a container of its own that shares only loopback with the kernel and calls it as `inference_server`."""

    argv: tuple[str, ...]  # after the interpreter, e.g. ("-m", "kaggle_evaluation.aimo_3_gateway")
    mounts: dict[str, Path]  # the gateway's own /kaggle/input: the competition's hidden data and its package
    pythonpath: str  # where the evaluation package is importable from, inside the gateway's root
    folder: Path  # the gateway's working folder on the host (its result.json and submission.parquet)


def execute_served(run_dir: Path, gateway: GatewayRun) -> dict[str, Any]:
    """Run a prepared (rerun) folder whose kernel serves `predict`, with `gateway` beside it.

    The kernel starts as in `execute_run`; once its namespaces exist the gateway joins its network namespace with
    a root and a /etc/hosts of its own (`inference_server` -> 127.0.0.1). The gateway decides the end: when it
    exits the kernel, still blocked in serve() as on Kaggle, is stopped. If the kernel dies first, the name stops
    resolving, as a gone container's does. The session limit bounds both. Returns {kernel: {status,
    failureMessage} (or None while it was still serving), gateway_exit, timed_out}."""
    src = run_dir / "src"
    spec = json.loads((src / "run.json").read_text())
    image_python = isolation.build_image(run_dir / "image")
    _kernelspec(src, image_python)
    cmd, env = _launch(run_dir, spec, image_python)
    gateway.folder.mkdir(parents=True, exist_ok=True)
    hosts = gateway.folder.parent / f"{gateway.folder.name}.hosts"
    hosts.write_text(_HOSTS + f"127.0.0.1\t{GATEWAY_HOST}\n", encoding="utf-8")
    deadline = time.monotonic() + float(spec["timeout"])
    with open(run_dir / "runner.stderr", "wb") as err, open(gateway.folder.parent / "gateway.log", "wb") as glog:
        kernel = subprocess.Popen(cmd, cwd=spec["working"], env=env, stdout=err, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        try:
            beside = _gateway_command(run_dir, spec, kernel, gateway, hosts)
            gate = subprocess.Popen(beside, cwd=gateway.folder, env=_host_env(), stdout=glog,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        except Exception:
            _kill(kernel)
            raise
        timed_out = _watch(kernel, gate, hosts, deadline)
        for proc in (gate, kernel):
            if proc.poll() is None:
                _kill(proc)
    kernel_result = json.loads((src / "result.json").read_text()) if (src / "result.json").exists() else None
    if timed_out:
        _write_log(src, f"{TIMEOUT_MESSAGE}: stopped at the session limit of {spec['timeout']:.0f} s",
                   notice=spec.get("notice", ""))
    elif kernel_result is None:
        _write_log(src, "", notice=spec.get("notice", ""))
    return {"kernel": kernel_result, "gateway_exit": gate.returncode, "timed_out": timed_out}


GATEWAY_HOST = "inference_server"  # the host name a rerun gateway dials (kaggle_evaluation's base gateway)
_HOSTS = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"


def _host_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _gateway_command(run_dir: Path, spec: dict[str, Any], kernel: subprocess.Popen, gateway: GatewayRun,
                     hosts: Path) -> list[str]:
    """The gateway's command: isolated beside the kernel, or (degraded) a plain process told the host's address."""
    env = {k: os.environ[k] for k in _PASS if k in os.environ}
    env.update(KAGGLE_IS_COMPETITION_RERUN="true", PYTHONPATH=gateway.pythonpath, HOME="/root",
               PYTHONUNBUFFERED="1", PATH="/usr/local/bin:/usr/bin:/bin")
    if isolation.isolation_problem():  # two containers sharing one loopback need namespaces; nothing to degrade to
        raise RuntimeError(f"a served kernel's gateway needs namespace isolation ({isolation.isolation_problem()})")
    _await_namespaces(kernel)
    inner = {"root": str(run_dir / "gateway-root"), "hide": [h for h in _hidden_paths() if h],
             "mounts": {rel: str(Path(p).resolve()) for rel, p in gateway.mounts.items()},
             "keep": [sys.prefix, sys.base_prefix, str(Path(__file__).resolve().parents[3])],
             "working": str(gateway.folder), "hosts": str(hosts), "env": env,
             "argv": [sys.executable, *gateway.argv]}
    path = gateway.folder.parent / "gateway-isolation.json"
    path.write_text(json.dumps(inner, indent=1))
    return isolation.beside_command(kernel.pid, path)


def _hidden_paths() -> list[str]:
    """What a sandbox process never sees of this machine: the kit's state, HOME, assets and temp folders."""
    return [os.environ.get("KIT_HOME", ""), os.environ.get("HOME", ""), os.environ.get("KIT_ASSETS_DIR", ""),
            os.environ.get("TMPDIR", "")]


def _await_namespaces(kernel: subprocess.Popen, seconds: float = 20.0) -> None:
    """Wait until the kernel process has its own network namespace (joining earlier would join this machine's)."""
    mine = os.readlink("/proc/self/ns/net")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if os.readlink(f"/proc/{kernel.pid}/ns/net") != mine:
                return
        except OSError:  # the process is gone
            break
        if kernel.poll() is not None:
            break
        time.sleep(0.02)
    raise RuntimeError("the kernel never entered its namespaces; see runner.stderr")


def _watch(kernel: subprocess.Popen, gate: subprocess.Popen, hosts: Path, deadline: float) -> bool:
    """Wait for the gateway; True when the session limit ran out first. A kernel that ends (crash, or code that
    never reached serve()) takes its host name with it."""
    mapped = True
    while gate.poll() is None:
        if time.monotonic() >= deadline:
            return True
        if mapped and kernel.poll() is not None:
            hosts.write_text(_HOSTS, encoding="utf-8")  # the same inode: the gateway's bind mount sees it
            mapped = False
        time.sleep(0.1)
    return False


def _tee(proc: subprocess.Popen, err: Any) -> threading.Thread:
    """Copy the driver's output to the run's stderr file and to this process's stderr, line by line."""
    def copy() -> None:
        for line in iter(proc.stdout.readline, b""):
            err.write(line)
            sys.stderr.write(line.decode(errors="replace"))
            sys.stderr.flush()

    thread = threading.Thread(target=copy, daemon=True, name="kernel-progress")
    thread.start()
    return thread


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


# ---------------------------------------------------------------------------- the driver


def _where(input_dir: Path) -> str:
    """One log line saying, from inside the kernel's namespaces, what network and inputs it has."""
    import socket

    from kit.kernel.inputs import listing

    nets = ", ".join(sorted(name for _, name in socket.if_nameindex()))
    return f"sandbox kernel: network interfaces {nets}; {listing(input_dir)}"


def _child(src: Path, working: Path, input_dir: Path) -> int:
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
    _write_log(src, result["failureMessage"], started, notice=spec.get("notice", ""))
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


def _write_log(src: Path, failure: str, started: float | None = None, notice: str = "") -> None:
    """A Kaggle-style log: a JSON list of {stream_name, time, data} entries from the run's outputs."""
    started = started or time.time()
    entries = [{"stream_name": "stderr", "data": notice + "\n"}] if notice else []
    executed = src / "executed.ipynb"
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
    script_out = src / "script.out"
    if script_out.exists():
        entries.append({"stream_name": "stdout", "data": script_out.read_text(errors="replace")})
    if failure:
        entries.append({"stream_name": "stderr", "data": failure + "\n"})
    for entry in entries:
        entry["time"] = round(time.time() - started, 3)
    (src / "log.json").write_text(json.dumps(entries))


def output_files(run_dir: Path) -> list[str]:
    """Relative names of the files the run left in its working dir."""
    working = run_dir / "working"
    if not working.is_dir():
        return []
    return sorted(str(p.relative_to(working)) for p in working.rglob("*") if p.is_file())


def run_log(run_dir: Path) -> str:
    """The run's log text (Kaggle's JSON form), or '' before it exists."""
    path = run_dir / "src" / "log.json"
    return path.read_text() if path.exists() else ""


if __name__ == "__main__":  # pragma: no cover - exercised through execute_run
    sys.exit(_child(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
