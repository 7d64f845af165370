"""Every participation state and service quirk, told apart: the emulator is put in each state and the kit (its
CLI, in process, over the official client) and the official `kaggle` CLI are driven through it. Each asserts the
one line the user sees and the exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from emulator_tools import SimplePack, admin, set_state

from kit.errors import (
    DailyLimitError,
    NotJoinedError,
    RulesNotAcceptedError,
    SubmissionsClosedError,
)
from kit.kaggle.emulator import start_in_thread

pytestmark = pytest.mark.usefixtures("prompt_recovery_workspace")  # the tests run in a pack-1 workspace

COMP = "llm-prompt-recovery"
USER = "sandbox-user"
KAGGLE_CLI = str(Path(sys.executable).with_name("kaggle"))


@pytest.fixture()
def sandbox():
    """An emulator serving this test's $KIT_HOME sandbox, so `kit ... --sandbox` finds it (no subprocess)."""
    from kit.kaggle.sandbox import sandbox_dir

    state = sandbox_dir() / "state"
    running = start_in_thread(state, pack=SimplePack(), ready_delay=0)
    (state / "emulator.port").write_text(json.dumps({"port": running.port, "pid": os.getpid(), "state": str(state)}))
    saved = dict(os.environ)
    yield running
    os.environ.clear()
    os.environ.update(saved)
    running.stop()


def kernel_folder(root: Path) -> Path:
    """A kit kernel folder (as build-submission lays it out) whose notebook answers the SimplePack."""
    from test_submit import _sim_kernel

    return _sim_kernel(root, 'return {"1": "alpha", "2": "beta", "3": "gamma", "4": "delta"}.get(i, "x")')


def kit(argv: list[str], capsys) -> tuple[int, str]:
    from kit.cli import run

    code = run(argv)
    return code, capsys.readouterr().err


def error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


def official_cli(args: list[str], url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_PROXY", "no_proxy", "KAGGLE_API_TOKEN")}
    env.update(KAGGLE_API_ENVIRONMENT="LOCALHOST", HTTP_PROXY=url, KAGGLE_USERNAME=USER, KAGGLE_KEY="sandbox-key",
               KAGGLE_CONFIG_DIR=str(tmp_path / "cli-config"))
    return subprocess.run([KAGGLE_CLI, *args], env=env, capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)


@pytest.mark.slow
def test_each_participation_state_one_line_and_exit_code(sandbox, tmp_path, capsys):
    kernel = kernel_folder(tmp_path / "kernel")
    submit = ["submit", str(kernel), "--sandbox", "--allow-dirty", "-m", "states"]
    state = sandbox.server.state

    set_state(sandbox.url, participation="not_joined")
    code, err = kit(submit, capsys)
    line = error_line(err)
    assert code == NotJoinedError.exit_code == 17
    assert "not joined llm-prompt-recovery" in line and "Join Competition" in line, line
    assert "daily" not in line and "kaggle.json" not in line
    assert state.data["kernels"] == {}  # refused before the push: no GPU time, no submission

    set_state(sandbox.url, participation="rules_not_accepted")
    code, err = kit(submit, capsys)
    line = error_line(err)
    assert code == RulesNotAcceptedError.exit_code == 18
    assert f"https://www.kaggle.com/competitions/{COMP}/rules" in line and "API cannot" in line, line
    assert "kaggle.json" not in line and state.data["kernels"] == {}

    set_state(sandbox.url, submissions_open=False)
    code, err = kit(submit, capsys)
    line = error_line(err)
    assert code == SubmissionsClosedError.exit_code == 19, err
    assert "not accepting submissions" in line and "late submissions are closed" in line, line
    assert state.data["submissions"] == []

    # Open again; the new submission is not found for a moment: the kit keeps waiting, as the official poller does.
    set_state(sandbox.url)
    admin(sandbox.url, "faults", {"method": "GetSubmission", "status": 404, "times": 2})
    code, err = kit(["submit", "--resume", "--sandbox", "--json"], capsys)
    assert code == 0, err
    assert [s["status"] for s in state.data["submissions"]] == ["COMPLETE"]
    assert admin(sandbox.url, "faults")["faults"] == []  # both 404s were served

    admin(sandbox.url, "faults", {"kind": "daily_limit"})
    code, err = kit(submit, capsys)
    line = error_line(err)
    assert code == DailyLimitError.exit_code == 10 and "no submissions left today" in line, line

    # The official CLI in the same states: the server's own words, as Kaggle sends them.
    admin(sandbox.url, "faults", method="DELETE")
    set_state(sandbox.url, participation="not_joined")
    refused = official_cli(["competitions", "submit", COMP, "-k", f"{USER}/kit-prompt-recovery-infer", "-v", "1",
                            "-f", "submission.csv", "-m", "x"], sandbox.url, tmp_path)
    assert refused.returncode == 1 and "You cannot submit until you accept the competition rules" in refused.stderr
    download = official_cli(["competitions", "download", COMP, "-p", str(tmp_path / "data")], sandbox.url, tmp_path)
    assert download.returncode == 1 and "accept this competition's rules" in download.stderr, download.stderr
