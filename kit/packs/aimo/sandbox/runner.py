"""Running one snippet in a separate, limited process; deciding once how much isolation this machine grants.

Where it holds (the result's `isolated` and `notice` say which case a run was in):

| protection                      | namespaces granted                      | no namespaces                          |
|---------------------------------|-----------------------------------------|----------------------------------------|
| wall clock, output cap, cleanup | host kills the tree (its first process  | host kills the process tree; the       |
|                                 | is a subreaper) and the group; the pid  | supervisor is subreaper of orphans     |
|                                 | namespace dies with its init            |                                        |
| CPU, memory, file size          | rlimits                                 | rlimits                                |
| process count                   | RLIMIT_NPROC in the fresh user          | RLIMIT_NPROC over the uid's tasks      |
|                                 | namespace                               | (the supervisor's watch for root)      |
| network                         | none: an empty network namespace        | NOT isolated                           |
| protected paths, HOME, /tmp     | covered by empty read-only mounts (the  | file permissions only: on a root host  |
|                                 | scratch folder is a fresh /tmp); all    | snippets run as uid 65534 where it can |
|                                 | else read-only; the snippet holds no    | run the interpreter, else as root and  |
|                                 | capability over the view                | NOT protected                          |
| other processes                 | invisible (fresh pid namespace)         | visible; signals as the uid allows     |

On a root host the isolated worker runs as uid 65534 too: the kernel exempts kuid 0 from RLIMIT_NPROC, and only
a non-root uid makes that limit hold. Where even that is refused the plans degrade one step at a time (isolated
as root, then not isolated), each one probed with a real snippet, and the notice says what was lost.

Every run gets a fresh scratch folder (its working folder, HOME and TMPDIR), gone afterwards, and a minimal
environment: no variable of the host (tokens, credentials) reaches the snippet. PYTHONHASHSEED is fixed so the
same code prints the same set orders in both private reruns.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from kit.errors import MissingDependencyError
from kit.packs.aimo.sandbox import child
from kit.packs.aimo.sandbox.config import SandboxConfig, home_folders
from kit.packs.aimo.sandbox.result import StreamTail, ToolResult

log = logging.getLogger(__name__)

NOBODY = 65534
_CHILD_SOURCE = Path(child.__file__).read_text(encoding="utf-8")
_PROBE_CELL = "import decimal, fractions, json, statistics\nprint('ok')"  # modules not loaded at start-up
_PROBE_WALL_S = 20.0  # generous: a slow first start must not be mistaken for missing isolation
_STRAGGLE_S = 0.5  # how long pipes may stay open after the run's first process exited
_WATCH_S = 0.02  # the supervisor's process-count check interval
_KILL_S = 5.0  # the longest a run's processes may take to die (a pid namespace's init waits for all of them)
_PLANS: dict[tuple[str, str, str], Plan] = {}


@dataclass(frozen=True)
class Plan:
    """How snippets run on this machine: decided once per interpreter, mode and scratch folder by probing."""

    isolated: bool
    run_as: int | None  # the uid the worker drops to (root hosts only), else None: the host's own
    notice: str


@dataclass(frozen=True)
class _Collected:
    """What the host read from a run, and whether it stopped the run itself."""

    out: StreamTail
    err: StreamTail
    status: bytes
    stopped: str  # "", "wall" or "output"


def plan_for(config: SandboxConfig) -> Plan:
    """The plan for `config` (probed on first use, then cached for this process)."""
    key = (config.interpreter, config.isolate, str(config.scratch()))
    if key not in _PLANS:
        _PLANS[key] = _decide(config)
        if _PLANS[key].notice:
            log.warning(_PLANS[key].notice)
    return _PLANS[key]


def _decide(config: SandboxConfig) -> Plan:
    """The most protective plan that runs a probe snippet here, with a notice for whatever is missing."""
    root = os.geteuid() == 0
    why = "isolate='off'"
    if config.isolate != "off":
        why = _probe(config, Plan(True, NOBODY if root else None, ""))
        if not why:
            return Plan(True, NOBODY if root else None, "")
        if root and not _probe(config, Plan(True, None, "")):
            return Plan(True, None, f"tool sandbox isolated, but snippets run as root of their namespace ({why} "
                                    f"as uid {NOBODY}): only the supervisor's watch limits processes")
        if config.isolate == "require":
            raise MissingDependencyError(f"tool sandbox: namespaces unavailable here ({why})",
                                         hint="set isolate='auto' to run snippets without them")
    head = f"tool sandbox NOT isolated ({why}): the network is reachable"
    if root:
        if not _probe(config, Plan(False, NOBODY, "")):
            return Plan(False, NOBODY, f"{head}; protected paths are guarded only by file permissions "
                                       f"(snippets run as uid {NOBODY})")
        return Plan(False, None, f"{head}; snippets run as root: protected paths are NOT protected and only the "
                                 f"supervisor's watch limits processes")
    return Plan(False, None, f"{head}; protected paths are guarded only by this user's file permissions")


def _probe(config: SandboxConfig, plan: Plan) -> str:
    """'' when a trivial snippet runs under `plan`; else why not, in a few words."""
    result = run_cells([_PROBE_CELL], replace(config, wall_s=max(config.wall_s, _PROBE_WALL_S)), plan)
    if result.ok and result.stdout.strip() == "ok":
        return ""
    lines = (result.stderr.strip().splitlines() or [result.killed or f"exit status {result.exit_code}"])
    return lines[-1][:200]


def run_cells(cells: Sequence[str], config: SandboxConfig, plan: Plan) -> ToolResult:
    """Run `cells` (earlier ones replayed silently, the last one shown) in a fresh scratch folder under `plan`."""
    started = time.monotonic()
    run_dir = Path(tempfile.mkdtemp(prefix="aimo-tool-", dir=config.scratch()))
    try:
        return _run_in(run_dir, list(cells), config, plan, started)
    finally:
        _remove(run_dir)


def _run_in(run_dir: Path, cells: list[str], config: SandboxConfig, plan: Plan, started: float) -> ToolResult:
    """Write the spec into `run_dir`, start the child, collect its output, stop everything it left."""
    work = Path(child.SCRATCH) if plan.isolated else run_dir / "work"  # isolated: a fresh tmpfs inside
    if not plan.isolated:
        work.mkdir()
        if plan.run_as is not None:
            os.chown(work, plan.run_as, plan.run_as)
            run_dir.chmod(0o711)
    read_fd, write_fd = os.pipe()
    spec = {"cells": cells, "work": str(work), "status_fd": write_fd, "isolate": plan.isolated,
            "hide": [str(p) for p in config.protected()], "homes": [str(h) for h in home_folders()],
            "run_as": plan.run_as, "watch_s": _WATCH_S, "scratch_mb": config.scratch_mb,
            "limits": {"cpu_s": config.cpu_s, "memory_bytes": config.memory_mb * 1024 * 1024,
                       "max_procs": config.max_procs, "file_bytes": config.file_mb * 1024 * 1024}}
    (run_dir / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    argv = [config.interpreter, "-s", "-u", "-B", "-c", _CHILD_SOURCE, str(run_dir / "spec.json")]
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                pass_fds=(write_fd,), start_new_session=True, env=_environment(work),
                                cwd=run_dir)
    except OSError as exc:
        os.close(read_fd)
        return _result(StreamTail(1), StreamTail(1), None, "", f"sandbox could not start: {exc}", config, plan,
                       started)
    finally:
        os.close(write_fd)
    try:
        got = _collect(proc, read_fd, config, started + config.wall_s)
    finally:
        _stop(proc)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        os.close(read_fd)
    return _outcome(got, proc.returncode, config, plan, started)


def _environment(work: Path) -> dict[str, str]:
    """The snippet's whole environment: nothing of the host's beyond PATH."""
    return {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "HOME": str(work), "TMPDIR": str(work),
            "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONIOENCODING": "utf-8", "MPLBACKEND": "Agg",
            # one thread each: snippets share the machine with the model server and with each other
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _collect(proc: subprocess.Popen, status_fd: int, config: SandboxConfig, deadline: float) -> _Collected:
    """Read stdout, stderr and the status pipe until all close, the deadline passes or output runs over."""
    out, err, status = StreamTail(config.output_keep), StreamTail(config.output_keep), bytearray()
    assert proc.stdout is not None and proc.stderr is not None  # both are pipes (see Popen above)
    sinks = {proc.stdout.fileno(): out.add, proc.stderr.fileno(): err.add, status_fd: status.extend}
    stopped, exited_at = "", None
    with selectors.DefaultSelector() as selector:
        for fd in sinks:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            now = time.monotonic()
            if now >= deadline:
                stopped = "wall"
                break
            if config.output_limit and out.total + err.total > config.output_limit:
                stopped = "output"
                break
            if exited_at is not None and now - exited_at > _STRAGGLE_S:
                break  # something outlived the run and holds a pipe: _stop kills it
            events = selector.select(min(deadline - now, 0.25))
            if not events and exited_at is None and proc.poll() is not None:
                exited_at = now
            for key, _ in events:
                data = os.read(key.fd, 65536)
                if data:
                    sinks[key.fd](data)
                else:
                    selector.unregister(key.fd)
    return _Collected(out, err, bytes(status), stopped)


def _stop(proc: subprocess.Popen) -> None:
    """Kill everything the run started and wait until it is gone. Descendants go first, while the first process,
    a subreaper, still holds them (killing it first would hand them to init, out of sight); then the group."""
    give_up = time.monotonic() + _KILL_S
    while time.monotonic() < give_up:
        kids = child.descendants(proc.pid)
        if not kids:
            break
        for pid in reversed(kids):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.002)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _outcome(got: _Collected, returncode: int, config: SandboxConfig, plan: Plan, started: float) -> ToolResult:
    """The result of a finished run, from what the host saw and what the supervisor reported."""
    if got.stopped == "wall":
        return _result(got.out, got.err, None, "", f"wall-clock limit of {config.wall_s:g} s", config, plan,
                       started, timed_out=True)
    if got.stopped == "output":
        return _result(got.out, got.err, None, "", f"output limit of {config.output_limit} bytes", config, plan,
                       started)
    try:
        status = json.loads(got.status.decode())
    except ValueError:
        return _result(got.out, got.err, None, "", f"sandbox failed without a report (exit {returncode})", config,
                       plan, started)
    notes = "; ".join(status.get("notes", ()))
    if status["setup"]:
        return _result(got.out, got.err, None, notes, f"sandbox setup failed: {status['setup']}", config, plan,
                       started)
    if status.get("limit") == "processes":
        return _result(got.out, got.err, None, notes, f"process limit of {config.max_procs}", config, plan,
                       started, cpu_s=status.get("cpu_s", 0.0))
    code = int(status["exit"])
    return _result(got.out, got.err, code, notes, _signal_reason(code, config), config, plan, started,
                   cpu_s=status.get("cpu_s", 0.0))


def _signal_reason(code: int, config: SandboxConfig) -> str:
    """Why a snippet that exited with `code` was stopped: '' for an ordinary exit."""
    if code >= 0:
        return ""
    if -code == signal.SIGXCPU:
        return f"CPU-time limit of {config.cpu_s} s"
    try:
        return f"signal {signal.Signals(-code).name}"
    except ValueError:
        return f"signal {-code}"


def _result(out: StreamTail, err: StreamTail, code: int | None, notes: str, killed: str, config: SandboxConfig,
            plan: Plan, started: float, timed_out: bool = False, cpu_s: float = 0.0) -> ToolResult:
    """The ToolResult of a run, its notice joining the plan's and the supervisor's notes."""
    notice = "; ".join(n for n in (plan.notice, notes) if n)
    return ToolResult(stdout=out.text(), stderr=err.text(), exit_code=code, killed=killed, timed_out=timed_out,
                      stdout_bytes=out.total, stderr_bytes=err.total, isolated=plan.isolated, notice=notice,
                      wall_s=round(time.monotonic() - started, 3), cpu_s=float(cpu_s))


def _remove(path: Path) -> None:
    """Remove a scratch folder even where the snippet locked its own files or folders."""

    def unlock(_func, target: str, _exc) -> None:
        """Make `target` and its folder writable again and remove it."""
        for locked in (os.path.dirname(target), target):
            with contextlib.suppress(OSError):
                os.chmod(locked, 0o700)
        with contextlib.suppress(OSError):
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target, ignore_errors=True)
            else:
                os.unlink(target)

    shutil.rmtree(path, onerror=unlock)
