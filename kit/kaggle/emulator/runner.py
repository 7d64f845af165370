"""Sandbox kernel execution: run a notebook or script the way Kaggle runs a kernel, on this machine.

A run folder holds `src/` (the source, run.json, the executed notebook, the Kaggle-style log, the result),
`working/` (the kernel's /kaggle/working, whose files become its output) and `image/` (the run's own stand-in
interpreter: kit.kaggle.isolation.build_image). The kernel runs under `unshare` in fresh user, mount and network
namespaces, where its inputs sit at /kaggle/input/... (mounted per the run's layout), /kaggle/working is the
cwd, there is no network and the kit is importable only once the kernel installs it. Where namespaces are
unavailable the same driver runs degraded, says so once in the log, and gets `input_dir` pointed at a symlink
tree under the run folder.

The driver (kit.kaggle.emulator.driver) executes notebooks with papermill on a kernelspec whose interpreter is the
stand-in image: any notebook runs (no `parameters` cell needed; parameters are injected only when the caller passes
some; any Python kernelspec maps to that kernel), scripts too.

Nothing outlives its run: the kernel starts in a session of its own (so a terminal's Ctrl-C reaches only the
host), and when the run ends early (its session limit, an exception or a signal in the host, `stop_all` at the
emulator's shutdown) `kit.kaggle.isolation.stop_tree` stops the driver, papermill's ipykernel and whatever they
started, before the run returns or re-raises.
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.kaggle import isolation

KAGGLE_INPUT, KAGGLE_WORKING, KAGGLE_SRC = "/kaggle/input", "/kaggle/working", "/kaggle/src"
KERNEL_NAME = "kit-sandbox"  # the kernelspec every notebook is run on, whatever it names
TIMEOUT_MESSAGE = "Notebook Timeout"  # Kaggle's name for a kernel stopped at its session limit
STOPPED_MESSAGE = "Kernel stopped: the sandbox emulator shut down while it ran"
INTERRUPTED_MESSAGE = "Kernel stopped: the command that ran it was interrupted"
DRIVER = "kit.kaggle.emulator.driver"
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "KAGGLE_KERNEL_RUN_TYPE": "Batch", "PYTHONUNBUFFERED": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
# Taken from this machine into the kernel's otherwise fresh environment (locale and thread knobs only).
_PASS = ("LANG", "LC_ALL", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "TOKENIZERS_PARALLELISM")


@dataclass
class _Live:
    """A kernel this process is running: its run folder, whether `stop_all` stopped it, and the process running
    beside it (a served kernel's gateway, in a session of its own)."""

    run_dir: Path
    stopped: bool = False
    beside: int | None = None


_LIVE: dict[int, _Live] = {}  # by the driver's pid; the emulator runs kernels from several threads
_LIVE_LOCK = threading.Lock()
_CLOSED = threading.Event()  # set by stop_all(close=True): no kernel starts any more


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
                 "argv": [sys.executable, "-m", DRIVER, KAGGLE_SRC, KAGGLE_WORKING, KAGGLE_INPUT]}
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
    return [sys.executable, "-m", DRIVER, str(src), spec["working"], str(input_dir)], env


def execute_run(run_dir: Path, *, stream: bool = False) -> dict[str, Any]:
    """Run a prepared folder, honouring its timeout; returns {status, failureMessage} as Kaggle reports them.

    `stream` echoes the kernel's progress lines (kit.notebooks' filter) to this process's stderr as they come.
    Whatever ends the wait early (KeyboardInterrupt from Ctrl-C, or any other exception) first stops the kernel's
    whole process tree and writes its log so far, then propagates."""
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
        with _LIVE_LOCK:  # registered before any other thread's stop_all can look
            if _CLOSED.is_set():
                return {"status": "ERROR", "failureMessage": STOPPED_MESSAGE}
            proc = subprocess.Popen(cmd, cwd=spec["working"], env=env, stdout=subprocess.PIPE if stream else err,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            _LIVE[proc.pid] = _Live(run_dir)
        tee = _tee(proc, err) if stream else None
        try:
            proc.wait(timeout=float(spec["timeout"]))
        except subprocess.TimeoutExpired:
            _stop(proc)
            write_log(src, f"{TIMEOUT_MESSAGE}: stopped at the session limit of {spec['timeout']:.0f} s",
                      notice=spec.get("notice", ""))
            return {"status": "ERROR", "failureMessage": TIMEOUT_MESSAGE}
        except BaseException:
            _stop(proc)
            write_log(src, INTERRUPTED_MESSAGE, notice=spec.get("notice", ""))
            raise
        finally:
            with _LIVE_LOCK:
                stopped = _LIVE.pop(proc.pid).stopped
            if tee is not None:
                tee.join(timeout=5)
    if stopped:
        return {"status": "ERROR", "failureMessage": STOPPED_MESSAGE}
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
    failureMessage} (or None while it was still serving), gateway_exit, timed_out, kernel_started (epoch)}."""
    src = run_dir / "src"
    spec = json.loads((src / "run.json").read_text())
    image_python = isolation.build_image(run_dir / "image")
    _kernelspec(src, image_python)
    cmd, env = _launch(run_dir, spec, image_python)
    gateway.folder.mkdir(parents=True, exist_ok=True)
    hosts = gateway.folder.parent / f"{gateway.folder.name}.hosts"
    hosts.write_text(_HOSTS + f"127.0.0.1\t{GATEWAY_HOST}\n", encoding="utf-8")
    deadline = time.monotonic() + float(spec["timeout"])
    started = time.time()  # the kernel's start: a rehearsal measures the time to the gateway's first answer from it
    with open(run_dir / "runner.stderr", "wb") as err, open(gateway.folder.parent / "gateway.log", "wb") as glog:
        with _LIVE_LOCK:  # stop_all stops the kernel and, once it runs, the gateway beside it
            kernel = subprocess.Popen(cmd, cwd=spec["working"], env=env, stdout=err, stderr=subprocess.STDOUT,
                                      start_new_session=True)
            _LIVE[kernel.pid] = live = _Live(run_dir)
        gate = None
        try:
            beside = _gateway_command(run_dir, spec, kernel, gateway, hosts)
            with _LIVE_LOCK:
                gate = subprocess.Popen(beside, cwd=gateway.folder, env=_host_env(), stdout=glog,
                                        stderr=subprocess.STDOUT, start_new_session=True)
                live.beside = gate.pid
            timed_out = _watch(kernel, gate, hosts, deadline)
        except BaseException:
            for proc in (gate, kernel):
                if proc is not None:
                    _stop(proc)
            raise
        finally:
            with _LIVE_LOCK:
                _LIVE.pop(kernel.pid, None)
        for proc in (gate, kernel):
            if proc.poll() is None:
                _stop(proc)
    kernel_result = json.loads((src / "result.json").read_text()) if (src / "result.json").exists() else None
    if timed_out:
        write_log(src, f"{TIMEOUT_MESSAGE}: stopped at the session limit of {spec['timeout']:.0f} s",
                  notice=spec.get("notice", ""))
    elif kernel_result is None:
        write_log(src, "", notice=spec.get("notice", ""))
    return {"kernel": kernel_result, "gateway_exit": gate.returncode, "timed_out": timed_out, "kernel_started": started}


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
    """Wait until the kernel process has its own network namespace (joining earlier would join this machine's) and
    its user namespace has its id maps: `unshare --map-root-user` writes them just after creating the namespaces,
    and a process joining before then cannot setgid inside (nsenter: "setgid failed: Invalid argument")."""
    mine = os.readlink("/proc/self/ns/net")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            proc = Path(f"/proc/{kernel.pid}")
            if (os.readlink(proc / "ns/net") != mine and (proc / "uid_map").read_text().strip()
                    and (proc / "gid_map").read_text().strip()):
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
def stop_all(*, close: bool = False) -> list[Path]:
    """Stop every kernel this process is running (the emulator's, at its shutdown) with all their processes; their
    run folders. `close` also refuses any kernel that would start afterwards."""
    with _LIVE_LOCK:
        if close:
            _CLOSED.set()
        live = dict(_LIVE)
        for run in live.values():
            run.stopped = True
    for pid, run in live.items():
        for leader in (run.beside, pid):
            if leader is not None:
                isolation.stop_tree(leader)
    return sorted(run.run_dir for run in live.values())


@contextmanager
def _shielded() -> Iterator[None]:
    """A second Ctrl-C or SIGTERM must not cut short the stopping of a kernel (main thread only: signals are
    delivered there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop(proc: subprocess.Popen) -> None:
    """Stop the kernel `proc` leads, with every process it started, and reap it."""
    with _shielded():
        isolation.stop_tree(proc.pid)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # in uninterruptible sleep: its SIGKILL is pending
            pass


def _tee(proc: subprocess.Popen, err: Any) -> threading.Thread:
    """Copy the driver's output to the run's stderr file and to this process's stderr, line by line."""
    def copy() -> None:
        for line in iter(proc.stdout.readline, b""):
            try:
                err.write(line)
                sys.stderr.write(line.decode(errors="replace"))
                sys.stderr.flush()
            except (OSError, ValueError):  # the file closed, or the terminal went: the kernel is being stopped
                return

    thread = threading.Thread(target=copy, daemon=True, name="kernel-progress")
    thread.start()
    return thread


# ---------------------------------------------------------------------------- logs and outputs


def write_log(src: Path, failure: str, started: float | None = None, notice: str = "") -> None:
    """A Kaggle-style log: a JSON list of {stream_name, time, data} entries from the run's outputs."""
    started = started or time.time()
    entries = [{"stream_name": "stderr", "data": notice + "\n"}] if notice else []
    for cell in _executed_cells(src / "executed.ipynb"):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                text = out.get("text", "")
                entries.append({"stream_name": out.get("name", "stdout"),
                                "data": "".join(text) if isinstance(text, list) else text})
            elif out.get("output_type") == "error":
                entries.append({"stream_name": "stderr", "data": f"{out.get('ename')}: {out.get('evalue')}\n"})
    script_out = src / "script.out"
    if script_out.exists():
        entries.append({"stream_name": "stdout", "data": script_out.read_text(errors="replace")})
    if failure:
        entries.append({"stream_name": "stderr", "data": failure + "\n"})
    for entry in entries:
        entry["time"] = round(time.time() - started, 3)
    (src / "log.json").write_text(json.dumps(entries))


def _executed_cells(path: Path) -> list[dict[str, Any]]:
    """The cells of the executed notebook so far; none when there is none, or when a stopped kernel's papermill
    was cut off while writing it."""
    try:
        return list(json.loads(path.read_text(encoding="utf-8")).get("cells", []))
    except (OSError, ValueError, AttributeError):
        return []


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
