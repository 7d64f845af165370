"""Sandbox mode: start or reuse the local emulator and build the environment that points the official client
at it (`--sandbox` or KIT_KAGGLE=sandbox).

The emulator runs as a detached background process with its state under $KIT_HOME/sandbox, so successive kit
commands (push, submit, history --sync) see the same datasets, kernels and submissions. Its port and pid are
recorded in `emulator.port`; a recorded emulator that still answers its health check is reused.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.config import kit_home
from kit.errors import KaggleError
from kit.poll import PollTimeout, poll_until


def sandbox_mode(sandbox: bool | None) -> bool:
    """An explicit flag wins; None reads KIT_KAGGLE=sandbox."""
    return bool(sandbox) if sandbox is not None else os.environ.get("KIT_KAGGLE", "").strip().lower() == "sandbox"

SANDBOX_TOKEN = "sandbox-token"  # the emulator's default bearer token; '<token>:<user>' names the user
DEFAULT_USER = "sandbox-user"
# Unset in sandbox mode: a 'localhost' in NO_PROXY would bypass the emulator; real credentials must not be sent.
UNSET = ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "KAGGLE_USERNAME", "KAGGLE_KEY")


@dataclass(frozen=True)
class Endpoint:
    """A live emulator."""

    port: int
    state_dir: Path
    pid: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def sandbox_dir() -> Path:
    """$KIT_HOME/sandbox: the emulator's state and the sandbox client's config dir."""
    path = kit_home() / "sandbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _open(url: str, data: bytes | None = None, timeout: float = 2.0) -> dict:
    # Straight to 127.0.0.1: never through a proxy from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    with opener.open(req, timeout=timeout) as resp:
        return json.loads(resp.read() or b"{}")


def health(port: int, timeout: float = 2.0) -> dict | None:
    """The emulator's health answer on `port`, or None when nothing (or something else) answers."""
    try:
        answer = _open(f"http://127.0.0.1:{port}/_admin/health", timeout=timeout)
    except (OSError, ValueError):
        return None
    return answer if answer.get("ok") else None


def recorded(state_dir: Path) -> Endpoint | None:
    """The emulator recorded in `state_dir`'s port file when it answers and serves that state; else None."""
    port_file = state_dir / "emulator.port"
    try:
        info = json.loads(port_file.read_text())
    except (OSError, ValueError):
        return None
    answer = health(int(info["port"]))
    if answer and Path(answer.get("state", "")).resolve() == state_dir.resolve():
        return Endpoint(int(info["port"]), state_dir, info.get("pid"))
    return None


def ensure_emulator(state_dir: Path | None = None, *, timeout: float = 30.0) -> Endpoint:
    """Reuse the recorded emulator for `state_dir` when alive, else start one in the background."""
    state_dir = Path(state_dir or sandbox_dir() / "state")
    state_dir.mkdir(parents=True, exist_ok=True)
    found = recorded(state_dir)
    if found:
        return found
    port_file = state_dir / "emulator.port"
    port_file.unlink(missing_ok=True)
    log = open(state_dir / "emulator.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kit.kaggle.emulator", "--state", str(state_dir), "--port-file",
         str(port_file)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    log.close()

    def started() -> Endpoint | None:
        if proc.poll() is not None:
            raise KaggleError(f"the sandbox emulator exited at start (code {proc.returncode})",
                              hint=f"see {state_dir / 'emulator.log'}")
        return recorded(state_dir)

    try:
        return poll_until(started, timeout=timeout, interval=0.1)
    except PollTimeout:
        proc.kill()
        raise KaggleError(f"the sandbox emulator did not start within {timeout:.0f} s",
                          hint=f"see {state_dir / 'emulator.log'}") from None


def stop_emulator(state_dir: Path | None = None, timeout: float = 10.0) -> bool:
    """Stop the recorded emulator for `state_dir` and return once its process has exited; True when one was
    running."""
    return shutdown_emulator(state_dir, timeout) is not None


def shutdown_emulator(state_dir: Path | None = None, timeout: float = 10.0) -> list[dict[str, Any]] | None:
    """Stop the recorded emulator for `state_dir`, the kernels it is running first, and return once its process
    has exited. None when none was running; else what each stopped kernel run left ({run, outputs}: its run
    folder and the files in its working folder), empty when it ran none or had to be stopped by a signal."""
    state_dir = Path(state_dir or sandbox_dir() / "state")
    found = recorded(state_dir)
    if found is None:
        return None
    stopped: list[dict[str, Any]] = []
    try:  # stopping its kernels takes the emulator a few seconds: wait for the answer longer than for others
        stopped = list(_open(f"{found.url}/_admin/shutdown", data=b"{}", timeout=timeout + 20).get("stopped", []))
    except OSError:
        if found.pid:
            os.kill(found.pid, signal.SIGTERM)  # the emulator stops its kernels on SIGTERM too
    if found.pid and not _exited(found.pid, timeout):
        os.kill(found.pid, signal.SIGTERM)  # it did not go by itself: ask the OS
        _exited(found.pid, timeout)
    (state_dir / "emulator.port").unlink(missing_ok=True)
    return stopped


def publish_model(ref: str, folder: Path, state_dir: Path | None = None) -> Path:
    """Make a local model folder the sandbox's model source `ref` (owner/model/framework/variation/N), as the
    emulator's /_admin/models does, without needing the emulator to be running."""
    from kit.kaggle.emulator.state import link_model

    return link_model(Path(state_dir or sandbox_dir() / "state"), ref, Path(folder))


def scoring_output(submission_ref: int, state_dir: Path | None = None) -> Path | None:
    """The folder a sandbox submission's scoring re-run wrote its output into (the hidden set's submission file and
    the kernel's reports), or None when there is none. Kaggle never shows this folder; the sandbox can, so a
    rehearsal can say what its score is made of."""
    from kit.kaggle.emulator.runner import working_dir
    from kit.kaggle.emulator.state import scoring_run_dir

    run_dir = scoring_run_dir(Path(state_dir or sandbox_dir() / "state"), submission_ref)
    try:
        return working_dir(run_dir)
    except (OSError, ValueError, KeyError):  # never scored here (another state folder, or the run did not start)
        return None


def set_layout(endpoint: Endpoint, layout: str) -> None:
    """Tell a running emulator which /kaggle/input layout its kernels get ('2025' or '2024')."""
    from kit.kernel.inputs import check_layout

    check_layout(layout, "[kaggle] sandbox_input_layout")
    _open(f"{endpoint.url}/_admin/config", data=json.dumps({"input_layout": layout}).encode())


def configure(endpoint: Endpoint, settings: dict[str, Any]) -> dict[str, Any]:
    """Change a running emulator's settings (`kit.kaggle.emulator.state.DEFAULTS` keys, e.g. the `hidden_rows`
    rehearsal knob); returns their values before, so a caller can put them back."""
    if not settings:
        return {}
    before = _open(f"{endpoint.url}/_admin/config", data=b"{}")
    _open(f"{endpoint.url}/_admin/config", data=json.dumps(settings).encode())
    return {key: before.get(key) for key in settings}


def _exited(pid: int, timeout: float) -> bool:
    """Wait until process `pid` is gone (reaping it when it is our child); True when it went in time."""
    def gone() -> bool:
        try:
            return os.waitpid(pid, os.WNOHANG)[0] == pid
        except ChildProcessError:  # not our child: probe it instead
            try:
                os.kill(pid, 0)
            except (ProcessLookupError, PermissionError):  # PermissionError: pid reused by another user's process
                return True
        return False

    try:
        return poll_until(gone, timeout=timeout, interval=0.05)
    except PollTimeout:
        return False


def client_env(endpoint_url: str, username: str, config_dir: Path) -> dict[str, str | None]:
    """Environment for the official client to talk to the emulator (None: unset the variable).

    Bearer auth with a sandbox token: a token wins over any stray ~/.kaggle/access_token, so real
    credentials are never sent to the local server.
    """
    env: dict[str, str | None] = {name: None for name in UNSET}
    env.update({
        "KAGGLE_API_ENVIRONMENT": "LOCALHOST",
        "HTTP_PROXY": endpoint_url,
        "http_proxy": endpoint_url,
        "KAGGLE_API_TOKEN": f"{SANDBOX_TOKEN}:{username or DEFAULT_USER}",
        "KAGGLE_CONFIG_DIR": str(config_dir),
    })
    return env


def apply_env(env: dict[str, str | None]) -> None:
    """Set (or unset, for None) each variable in this process."""
    for key, value in env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
