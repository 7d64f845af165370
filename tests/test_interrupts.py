"""Nothing left running (issue 22): Ctrl-C and SIGTERM on a command that runs a kernel, a kernel past its session
limit and an emulator that shuts down all stop the kernel's whole process tree (the driver under `unshare`,
papermill's ipykernel in a session of its own, whatever they started), and say what the run left where.

The processes are found here independently of the kit's own walk: by parent links in /proc (with their start
times, so a reused pid is not mistaken for a survivor) and by command lines naming the test's folders.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest
from emulator_tools import write_kernel
from helpers import pr_config

from kit.kaggle import isolation
from kit.kaggle.emulator import runner
from kit.packs.prompt_recovery.samples import mini_competition_dir
from kit.tables import read_rows

pytestmark = pytest.mark.usefixtures("prompt_recovery_workspace")  # the tests run in a pack-1 workspace

# A kernel that keeps rewriting its output until it is stopped, as a generating kernel does.
BUSY = ("import os, time\n"
        "for i in range(100000):\n"
        "    with open('progress.tmp', 'w') as fh:\n"
        "        fh.write(str(i))\n"
        "    os.replace('progress.tmp', 'progress.txt')\n"
        "    time.sleep(0.05)\n")


def _stat(pid: int) -> tuple[int, int, str] | None:
    """(parent pid, start time, state) of `pid`, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), int(fields[19]), fields[0]


def _descendants(root: int) -> dict[int, int]:
    """{pid: start time} of every live process below `root`, by parent links."""
    procs = {int(p.name): _stat(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit()}
    found: dict[int, int] = {}
    todo = [root]
    while todo:
        parent = todo.pop()
        for pid, st in procs.items():
            if st and st[0] == parent and pid not in found:
                found[pid] = st[1]
                todo.append(pid)
    return found


def _alive(snapshot: dict[int, int]) -> list[int]:
    """The processes of `snapshot` still running (a zombie has exited: it waits only to be reaped)."""
    alive = []
    for pid, started in snapshot.items():
        st = _stat(pid)
        if st and st[1] == started and st[2] not in ("Z", "X"):
            alive.append(pid)
    return alive


def _naming(text: str) -> list[str]:
    """Command lines of live processes that contain `text` (this test process excepted)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        st = _stat(int(entry.name))
        if text in cmdline and st and st[2] not in ("Z", "X"):
            found.append(cmdline)
    return found


def _wait_for(predicate, timeout: float, proc: subprocess.Popen | None = None, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"exited ({proc.returncode}) before {what}: {proc.stderr.read()[-3000:]}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _reaped(pid: int) -> bool:
    """Whether our child `pid` has exited (and is reaped now)."""
    return os.waitpid(pid, os.WNOHANG)[0] == pid


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, st.st_size


# ---------------------------------------------------------------------------- the process walk


def _spawn_tree() -> tuple[subprocess.Popen, dict[int, int]]:
    """A driver leading its own session with a child that leads another (as jupyter_client starts ipykernel) and a
    grandchild; returns the driver and {pid: start time} of all three."""
    spawn = ("import subprocess, sys, time\n"
             "code = 'import subprocess, sys, time; subprocess.Popen([sys.executable, \"-c\", \"import time; "
             "time.sleep(300)\"]); time.sleep(300)'\n"
             "subprocess.Popen([sys.executable, '-c', code], start_new_session=True)\n"
             "time.sleep(300)\n")
    driver = subprocess.Popen([sys.executable, "-c", spawn], start_new_session=True)
    _wait_for(lambda: len(_descendants(driver.pid)) == 2, 30, what="the grandchild")
    return driver, {driver.pid: _stat(driver.pid)[1], **_descendants(driver.pid)}


def test_stop_tree_stops_children_in_sessions_of_their_own():
    """A kill of the driver's process group (what the runner did) misses a child in a session of its own and what
    that started; stop_tree reaches all of them and returns once they are gone."""
    trees = []
    try:
        driver, tree = _spawn_tree()
        trees.append(tree)
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait(timeout=10)
        assert len(_alive(tree)) == 2  # the child's session survives, re-parented

        driver, tree = _spawn_tree()
        trees.append(tree)
        assert isolation.stop_tree(driver.pid) == set(tree)
        assert _alive(tree) == []
        driver.wait(timeout=10)
    finally:
        for tree in trees:
            for pid in _alive(tree):
                os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------------------- the runner


@pytest.mark.parametrize("isolated", [True, False], ids=["isolated", "degraded"])
@pytest.mark.slow  # starts a kernel
def test_a_kernel_run_prints_no_runpy_warning(tmp_path, monkeypatch, isolated):
    """The driver is started with `python -m` on a module its package's import does not load already."""
    if isolated and isolation.isolation_problem():
        pytest.skip(f"no namespaces here: {isolation.isolation_problem()}")
    if not isolated:
        monkeypatch.setitem(isolation._PROBE, "answer", "unshare refused: Operation not permitted")
    run = runner.prepare_run(tmp_path / "run", text="print('hello')\n", kernel_type="script", mounts={}, timeout=60,
                             rerun=False)
    assert runner.execute_run(run) == {"status": "COMPLETE", "failureMessage": ""}
    said = (run / "runner.stderr").read_text()
    assert "RuntimeWarning" not in said and "found in sys.modules" not in said, said


# ---------------------------------------------------------------------------- kit run-local


@pytest.mark.slow
@pytest.mark.parametrize("sig, code, said", [(signal.SIGINT, 130, "aborted"), (signal.SIGTERM, 143, "terminated")],
                         ids=["SIGINT", "SIGTERM"])
def test_interrupting_run_local_stops_its_whole_kernel_and_says_what_is_left(tmp_path, instruct_model, sig, code,
                                                                                said):
    """The issue's case: a signal to `kit run-local` while its kernel generates leaves no process of the kernel,
    a submission file that no longer changes and is complete, and one line naming the run folder and the state of
    its submission file."""
    out = tmp_path / "rl"
    command = [sys.executable, "-m", "kit", "run-local", "--template", "fewshot", "--set", "infer.max_new_tokens=16",
               "--budget", "900", "--out", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for((out / "submission.csv").exists, 300, proc, "the kernel's fallback submission")
        kernel = _descendants(proc.pid)
        assert len(kernel) >= 2  # the driver and its ipykernel (and any worker they started)
        proc.send_signal(sig)
        sent = time.monotonic()
        _, stderr = proc.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, stderr[-3000:]
    assert took < 30, took  # within seconds, even on a busy machine
    assert _alive(kernel) == [] and _naming(str(tmp_path)) == []  # the ipykernel's interpreter lies in TMPDIR
    stamp = _stamp(out / "submission.csv")
    time.sleep(3)
    assert _stamp(out / "submission.csv") == stamp  # nothing writes it any more
    last = stderr.strip().splitlines()
    assert last[-1] == said
    line = next(x for x in last if x.startswith("run-local interrupted:"))
    assert f"{out} keeps " in line and "kernel_log.txt" in line and "nothing was recorded in the ledger" in line
    assert ("submission.csv is the kernel's first write (the fallback)" in line
            or "submission.csv is partial: " in line), line
    assert "RuntimeWarning" not in stderr
    ids = [r["id"] for r in read_rows(mini_competition_dir() / "test.csv")]
    assert [r["id"] for r in read_rows(out / "submission.csv")] == ids  # complete: every id, fallback or predicted
    assert "Kernel stopped: the command that ran it was interrupted" in (out / "kernel_log.txt").read_text()


# ---------------------------------------------------------------------------- the sandbox emulator


def _busy_sandbox_kernel(folder: Path, slug: str) -> tuple[object, object, Path, dict[int, int]]:
    """A busy notebook kernel pushed to the background sandbox emulator (started if needed), once it writes: (the
    emulator's endpoint, the client, its run's working folder, {pid: start time} of the emulator's kernel)."""
    from kit.kaggle.client import KaggleClient
    from kit.kaggle.sandbox import ensure_emulator

    endpoint = ensure_emulator()
    client = KaggleClient(pr_config(), sandbox=True, endpoint_url=endpoint.url, progress=False)
    push = client.kernel_push(write_kernel(folder, f"sandbox-user/{slug}", BUSY, kernel_type="notebook"))
    working = endpoint.state_dir / "kernels" / push.ref / str(push.version) / "run" / "working"
    _wait_for((working / "progress.txt").exists, 120, what=f"{slug}'s first write")
    kernel = _descendants(endpoint.pid)
    assert len(kernel) >= 2 and _naming(str(endpoint.state_dir))  # the driver, its ipykernel (image in the state)
    return endpoint, client, working, kernel


def _still(path: Path, seconds: float = 1.0) -> bool:
    stamp = _stamp(path)
    time.sleep(seconds)
    return _stamp(path) == stamp


@pytest.mark.slow
def test_emulator_stop_and_sigterm_stop_the_kernels_it_runs(tmp_path, capsys):
    """`kit emulator stop` stops the background emulator's running kernel first and says where it left what; an
    emulator told to go by SIGTERM (what stop does when the emulator does not answer) stops its kernels too."""
    from kit.cli import run

    endpoint, _, working, kernel = _busy_sandbox_kernel(tmp_path / "a", "busy-a")
    assert run(["emulator", "stop"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("stopped\n") and f"its run folder {working.parent} keeps progress.txt" in printed
    assert _alive(kernel) == [] and _naming(str(endpoint.state_dir)) == []
    assert _still(working / "progress.txt")

    endpoint, client, working, kernel = _busy_sandbox_kernel(tmp_path / "b", "busy-b")
    assert client.kernel_status("sandbox-user/busy-a", 1)[0] == "ERROR"  # the stopped run is over, not running
    os.kill(endpoint.pid, signal.SIGTERM)
    _wait_for(partial(_reaped, endpoint.pid), 30, what="the emulator's exit")  # this process started it
    assert _alive(kernel) == [] and _naming(str(endpoint.state_dir)) == []
    assert _still(working / "progress.txt")
