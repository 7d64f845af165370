"""`kit submit`: the pinned chain, driven against a small fake of OUR KaggleClient interface.

End-to-end runs against the emulator (the real `kaggle` client over HTTP) are at the bottom, marked slow."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

from kit.chain.build import build_submission
from kit.chain.submit import log_tail, submit
from kit.config import config_from_dict
from kit.errors import (
    DailyLimitError,
    DirtyTreeError,
    KaggleNotFoundError,
    KernelFailedError,
    SubmissionError,
    WaitTimeoutError,
)
from kit.ledger import Ledger
from kit.mechanisms.file import check_submission_file

GOOD_CSV = "id,rewrite_prompt\n1,Make it a poem\n2,\"Rewrite, formally\"\n"
CFG = config_from_dict({"kaggle": {"username": "alice", "base_model": "alice/mistral-7b-it-v02"}})
FAST = (0.001, 0.002)


@dataclass
class FakeClient:
    """A scripted stand-in for kit.kaggle.client.KaggleClient (only our own interface is faked)."""

    username: str = "alice"
    sandbox: bool = True
    allowed: int = 5
    dataset_states: list[str] = field(default_factory=list)
    kernel_states: list[str] = field(default_factory=lambda: ["QUEUED", "RUNNING", "COMPLETE"])
    output_csv: str = GOOD_CSV
    failure: str = ""
    score_states: list[str] = field(default_factory=lambda: ["PENDING", "COMPLETE"])
    interrupt_kernel_polls: int = 0
    fail_submit_after_create: bool = False
    calls: list[str] = field(default_factory=list)
    pushed: int = 0
    subs: dict[int, SimpleNamespace] = field(default_factory=dict)

    def submission_limits(self, competition):
        self.calls.append("limits")
        return SimpleNamespace(num_allowed_now=self.allowed, num_today=5 - self.allowed)

    def dataset_status(self, ref):
        self.calls.append(f"dataset_status {ref}")
        return self.dataset_states.pop(0) if self.dataset_states else "ready"

    def dataset_version(self, ref):  # (status, current version): the real client's call
        return self.dataset_status(ref), None

    def kernel_push(self, folder: Path):
        assert (folder / "kernel-metadata.json").is_file()
        self.pushed += 1
        self.calls.append("push")
        return SimpleNamespace(ref="alice/kit-prompt-recovery-infer", version=self.pushed)

    def kernel_status(self, ref, version):
        self.calls.append(f"status v{version}")
        if self.interrupt_kernel_polls:
            self.interrupt_kernel_polls -= 1
            raise KeyboardInterrupt
        state = self.kernel_states.pop(0) if len(self.kernel_states) > 1 else self.kernel_states[0]
        return state, self.failure if state == "ERROR" else ""

    def kernel_log(self, ref, version):
        return '[{"stream_name": "stdout", "data": "loading\\n"}, ' \
               '{"stream_name": "stderr", "data": "Traceback...\\nValueError: boom\\n"}]'

    def kernel_output(self, ref, version, dest: Path):
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "submission.csv").write_text(self.output_csv)
        return [dest / "submission.csv"]

    def submit_code(self, competition, kernel_ref, version, file_name, message):
        self.calls.append(f"submit v{version}")
        ref = 100 + len(self.subs)
        self.subs[ref] = SimpleNamespace(ref=ref, status="PENDING", public_score=None, private_score=None,
                                         error=None, description=message, date="2026-01-01T00:00:00Z")
        if self.fail_submit_after_create:
            self.fail_submit_after_create = False
            raise ConnectionError("connection reset after the submission was created")
        return ref

    def get_submission(self, ref, **_):
        state = self.score_states.pop(0) if len(self.score_states) > 1 else self.score_states[0]
        sub = self.subs[ref]
        sub.status = state
        if state == "COMPLETE":
            sub.public_score, sub.private_score = "0.6123", "0.6001"
        if state == "ERROR":
            sub.error = "Submission scoring error"
        return sub

    def submissions(self, competition):
        self.calls.append("submissions")
        return list(self.subs.values())

    def leaderboard(self, competition):
        return [SimpleNamespace(team_name="top team", score=0.71, rank=1),
                SimpleNamespace(team_name="alice", score=0.6123, rank=2)]


def _build(root: Path, sandbox: bool) -> Path:
    """A kernel rendered with template best, the adapter (v3) and wheels (v2) pushed in that mode, under its own
    KIT_HOME (module-scoped fixtures run before the per-test one)."""
    import os

    old = os.environ.get("KIT_HOME")
    os.environ["KIT_HOME"] = str(root / "home")
    try:
        with Ledger() as led:
            led.add_dataset_version("adapter", "alice/kit-lora-adapter", 3, "h3", sandbox=sandbox)
            led.add_dataset_version("wheels", "alice/kit-offline-wheels", 2, "w2", sandbox=sandbox)
        build_submission(CFG, template="best", out=root / "kernel", sandbox=sandbox, username="alice")
    finally:
        if old is None:
            os.environ.pop("KIT_HOME")
        else:
            os.environ["KIT_HOME"] = old
    return root / "kernel"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """One kernel built for the sandbox, copied by each test."""
    return _build(tmp_path_factory.mktemp("built"), sandbox=True)


@pytest.fixture(scope="module")
def built_for_kaggle(tmp_path_factory) -> Path:
    """One kernel built for Kaggle."""
    return _build(tmp_path_factory.mktemp("built-kaggle"), sandbox=False)


@pytest.fixture()
def kernel(built, tmp_path) -> Path:
    return Path(shutil.copytree(built, tmp_path / "work" / "kernel"))


@pytest.fixture()
def kaggle_kernel(built_for_kaggle, tmp_path) -> Path:
    return Path(shutil.copytree(built_for_kaggle, tmp_path / "work" / "kernel"))


def _submit(client, kernel, **kw):
    said: list[str] = []
    kw.setdefault("timeout", 5.0)
    kw.setdefault("poll", FAST)
    row = submit(CFG, kernel, client=client, sandbox=True, say=said.append, **kw)
    return row, said


def _rows() -> list[dict]:
    with Ledger() as led:
        return led.submissions(order="time")


def test_happy_path_records_provenance_scores_and_snapshot(kernel):
    client = FakeClient(dataset_states=["blobs_received", "ready"])
    row, said = _submit(client, kernel, message="first try")
    assert row["status"] == "complete" and row["public_score"] == pytest.approx(0.6123)
    assert row["private_score"] == pytest.approx(0.6001) and row["submission_ref"] == 100
    assert (row["kernel_ref"], row["kernel_version"], row["template"]) == ("alice/kit-prompt-recovery-infer", 1, "best")
    assert (row["adapter_ref"], row["adapter_version"]) == ("alice/kit-lora-adapter", 3)
    assert row["base_model_source"] == "alice/mistral-7b-it-v02" and row["kit_version"]
    assert row["git_sha"] is None and row["sandbox"] == 1  # tests run outside a git repo
    assert '"template": "best"' in row["parameters"]
    assert client.subs[100].description == "first try [kit alice/kit-prompt-recovery-infer/1]"
    # order: limit check, datasets READY (waited through blobs_received), then push, then submission
    assert client.calls.index("limits") < client.calls.index("push") < client.calls.index("submit v1")
    assert client.calls.count("dataset_status alice/kit-lora-adapter/3") == 2
    assert client.calls.index("dataset_status alice/kit-lora-adapter/3") < client.calls.index("push")
    with Ledger() as led:
        snap = led.leaderboard_snapshots("llm-prompt-recovery")[-1]
    assert (snap["our_best"], snap["our_rank"], snap["top_score"]) == (pytest.approx(0.6123), 2, 0.71)
    assert any("RUNNING" in s for s in said)


def test_kernel_error_shows_log_tail_and_submits_nothing(kernel):
    client = FakeClient(kernel_states=["RUNNING", "ERROR"], failure="Notebook failed in cell 4")
    with pytest.raises(KernelFailedError, match="Notebook failed in cell 4"):
        _submit(client, kernel)
    assert not any(c.startswith("submit") for c in client.calls)
    row = _rows()[0]
    assert row["status"] == "kernel_error" and "ValueError: boom" in row["error"]


def test_daily_limit_refused_before_push(kernel):
    client = FakeClient(allowed=0)
    with pytest.raises(DailyLimitError, match="no submissions left today"):
        _submit(client, kernel)
    assert "push" not in client.calls
    row = _rows()[0]
    assert row["status"] == "refused" and "no submissions left" in row["error"]


@pytest.mark.parametrize("csv_text", ["id,rewrite_prompt\n1,ok\n2,  \n", "id,text\n1,a\n", "id,rewrite_prompt\n",
                                      "id,rewrite_prompt\n1,a\n1,b\n"])
def test_invalid_output_is_refused_before_submitting(kernel, csv_text):
    client = FakeClient(output_csv=csv_text)
    with pytest.raises(SubmissionError, match="nothing was submitted"):
        _submit(client, kernel)
    assert not any(c.startswith("submit") for c in client.calls)
    assert _rows()[0]["status"] == "invalid_output"


def test_interrupted_wait_then_resume_submits_exactly_once(kernel):
    client = FakeClient(interrupt_kernel_polls=1)
    with pytest.raises(KeyboardInterrupt):
        _submit(client, kernel)
    assert _rows()[0]["status"] == "running"
    row, said = _submit(client, None, resume=True)  # the kernel folder comes from the ledger row
    assert row["status"] == "complete" and client.pushed == 1
    assert [c for c in client.calls if c.startswith("submit")] == ["submit v1"]
    assert any("continuing attempt" in s for s in said)
    with pytest.raises(KaggleNotFoundError, match="no interrupted submission"):
        _submit(client, None, resume=True)


def test_rerun_after_lost_submit_response_finds_it_on_kaggle(kernel):
    client = FakeClient(fail_submit_after_create=True)
    with pytest.raises(ConnectionError):
        _submit(client, kernel)
    assert _rows()[0]["status"] == "submitting"
    row, _ = _submit(client, kernel)  # a plain re-run with the same kernel hash continues the attempt
    assert row["status"] == "complete" and row["submission_ref"] == 100
    assert len(client.subs) == 1 and client.pushed == 1 and len(_rows()) == 1


def test_timeout_keeps_attempt_resumable_and_no_wait(kernel):
    client = FakeClient(kernel_states=["RUNNING"])
    with pytest.raises(WaitTimeoutError, match="still RUNNING"):
        _submit(client, kernel, timeout=0.01)
    assert _rows()[0]["status"] == "running" and "still RUNNING" in _rows()[0]["error"]
    client.kernel_states = ["COMPLETE"]
    row, _ = _submit(client, kernel, resume=True, wait=False)  # one status check, then submit, no score wait
    assert row["status"] == "pending" and client.pushed == 1
    row, _ = _submit(client, kernel, resume=True)
    assert row["status"] == "complete" and len(client.subs) == 1


def test_no_wait_returns_after_push(kernel):
    client = FakeClient()
    row, _ = _submit(client, kernel, wait=False)
    assert row["status"] == "running" and row["kernel_version"] == 1 and "submit v1" not in client.calls


def test_scoring_error_is_recorded(kernel):
    client = FakeClient(score_states=["PENDING", "ERROR"])
    with pytest.raises(SubmissionError, match="Submission scoring error"):
        _submit(client, kernel)
    assert _rows()[0]["status"] == "error"
    client.score_states = ["COMPLETE"]
    row, _ = _submit(client, kernel)  # a final attempt is not continued: a new attempt pushes v2
    assert row["kernel_version"] == 2 and len(_rows()) == 2


def test_dirty_tree_refused_and_recorded(kernel, tmp_path):
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    work = kernel.parent
    subprocess.run([*git, "init", "-q"], cwd=work, check=True)
    (work / "train.py").write_text("x = 1\n")
    subprocess.run([*git, "add", "train.py"], cwd=work, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=work, check=True)
    client = FakeClient()
    row, _ = _submit(client, kernel)  # the untracked kernel folder itself does not count as a change
    assert row["git_sha"] and row["git_dirty"] == 0 and row["status"] == "complete"
    (work / "train.py").write_text("x = 2\n")
    with pytest.raises(DirtyTreeError):
        _submit(client, kernel)
    assert client.pushed == 1 and [r["status"] for r in _rows()] == ["refused", "complete"]


def test_dirty_tree_allowed_records_flag(kernel):
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    work = kernel.parent
    subprocess.run([*git, "init", "-q"], cwd=work, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "init"], cwd=work, check=True)
    (work / "a.txt").write_text("a")  # an untracked file outside the kernel folder makes the tree dirty
    client = FakeClient()
    with pytest.raises(DirtyTreeError):
        _submit(client, kernel)
    assert _rows()[0]["status"] == "refused" and "push" not in client.calls
    row, _ = _submit(client, kernel, allow_dirty=True)
    assert row["status"] == "complete" and row["git_dirty"] == 1


def test_check_submission_file_and_log_tail(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(GOOD_CSV)
    assert check_submission_file(path, ["id", "rewrite_prompt"], {"1", "2"}) == 2
    with pytest.raises(SubmissionError, match="expected id"):
        check_submission_file(path, ["id", "rewrite_prompt"], {"1", "2", "3"})
    with pytest.raises(SubmissionError, match="missing from the kernel output"):
        check_submission_file(tmp_path / "none.csv", ["id", "rewrite_prompt"])
    assert log_tail("a\nb\nc\n", lines=2) == "b\nc"
    assert log_tail('[{"stream_name": "stdout", "data": "x\\ny\\n"}]', lines=1) == "y"


# ============================================================================ against the emulator (real client)

SIM_SOURCE = """
import csv, os
names = {"1": "alpha", "2": "beta", "3": "gamma", "4": "wrong"}
def answer(i):
    BODY
rows = list(csv.DictReader(open(os.path.join(input_dir, "competitions", "llm-prompt-recovery", "test.csv"))))
with open("submission.csv", "w") as fh:
    fh.write("id,answer\\n" + "".join(r["id"] + "," + answer(r["id"]) + "\\n" for r in rows))
print("wrote", len(rows), "rows")
"""
SIM_USER = "sandbox-user"
SIM_REF = f"{SIM_USER}/kit-prompt-recovery-infer"


def _sim_kernel(folder: Path, body: str, datasets: list[str] = (), pins: dict | None = None) -> Path:
    """A tiny kernel for the emulator's SimplePack, laid out exactly as build-submission lays out its kernels."""
    import json

    from emulator_tools import notebook

    from kit.files import write_json
    from kit.kaggle import kernel_metadata as km

    meta = km.build(owner=SIM_USER, slug="kit-prompt-recovery-infer", title="kit prompt recovery infer",
                    code_file="infer.ipynb", accelerator="none", competition="llm-prompt-recovery",
                    datasets=list(datasets), models=[])
    folder.mkdir(parents=True)
    (folder / "infer.ipynb").write_text(json.dumps(notebook(SIM_SOURCE.replace("BODY", body))))
    write_json(folder / "kernel-metadata.json", meta)
    write_json(folder / "kit_kernel.json", {"template": "simple", "kernel_ref": SIM_REF, "adapter": pins,
                                            "submission_file": "submission.csv",
                                            "submission_columns": ["id", "answer"]})
    return folder


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    from emulator_tools import SimplePack

    from kit.kaggle.emulator import start_in_thread

    running = start_in_thread(tmp_path_factory.mktemp("emulator-state"), pack=SimplePack(), ready_delay=1.0)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def shared_ledger(tmp_path_factory):
    led = Ledger(tmp_path_factory.mktemp("ledger") / "ledger.db")
    yield led
    led.close()


def _admin(emulator, path: str, data: object | None = None, method: str | None = None) -> dict:
    from emulator_tools import admin

    return admin(emulator.url, path, data, method)


@pytest.fixture()
def restore_env():
    """The sandbox client points this process's environment at the emulator: undo that after the test."""
    import os

    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture()
def real_client(emulator, shared_ledger, restore_env):
    from kit.config import KitConfig
    from kit.kaggle.client import KaggleClient

    _admin(emulator, "faults", method="DELETE")
    yield KaggleClient(KitConfig(), sandbox=True, endpoint_url=emulator.url, retries=2, max_retry_wait=0.3,
                       progress=False)
    _admin(emulator, "faults", method="DELETE")


def _esubmit(client, ledger, kernel, say=None, **kw):
    from kit.config import KitConfig

    said: list[str] = []
    row = submit(KitConfig(), kernel, client=client, ledger=ledger, sandbox=True, poll=(0.2, 1.0), timeout=120,
                 say=say or said.append, **kw)
    return row, said


@pytest.mark.slow
def test_emulator_dataset_wait_interrupt_resume_submits_once(real_client, shared_ledger, tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text('{"r": 8}')
    from kit.chain.pushes import push_dataset

    pushed = push_dataset(real_client, adapter, "kit-lora-adapter", kind="adapter", wait=False, ledger=shared_ledger)
    assert pushed.status != "ready"  # still processing: the chain must wait before pushing the kernel
    kernel = _sim_kernel(tmp_path / "kernel", 'return names.get(i, "x")', [pushed.ref],
                         {"ref": pushed.ref, "version": pushed.version})
    said: list[str] = []

    def interrupt(msg: str) -> None:
        said.append(msg)
        if msg.startswith("kernel ") and ("QUEUED" in msg or "RUNNING" in msg):
            raise KeyboardInterrupt  # Ctrl-C while waiting for the run

    with pytest.raises(KeyboardInterrupt):
        _esubmit(real_client, shared_ledger, kernel, say=interrupt)
    waited = [m for m in said if m.startswith(f"dataset {pushed.ref}")]
    assert len(waited) >= 2 and "READY" in waited[-1] and "READY" not in waited[0]
    assert shared_ledger.submissions(order="time")[0]["status"] == "running"
    row, said = _esubmit(real_client, shared_ledger, None, resume=True)
    assert row["status"] == "complete", row["error"]
    assert (row["public_score"], row["private_score"]) == (1.0, 0.5)
    assert (row["adapter_ref"], row["adapter_version"]) == (pushed.ref, pushed.version)
    mine = [s for s in real_client.submissions("llm-prompt-recovery") if f"[kit {SIM_REF}/" in s.description]
    assert len(mine) == 1 and mine[0].ref == row["submission_ref"]
    snap = shared_ledger.leaderboard_snapshots("llm-prompt-recovery")[-1]
    assert (snap["top_score"], snap["our_best"], snap["our_rank"], snap["n_teams"]) == (1.0, 1.0, 1, 3)


@pytest.mark.slow
def test_emulator_daily_limit_refused_before_push(real_client, shared_ledger, tmp_path, emulator):
    _admin(emulator, "faults", {"kind": "daily_limit"})
    kernel = _sim_kernel(tmp_path / "kernel", 'return "limit"')
    with pytest.raises(DailyLimitError):
        _esubmit(real_client, shared_ledger, kernel)
    row = shared_ledger.submissions(order="time")[0]
    assert row["status"] == "refused" and row["kernel_version"] is None


@pytest.mark.slow
def test_emulator_kernel_error_shows_log_tail(real_client, shared_ledger, tmp_path):
    before = len(real_client.submissions("llm-prompt-recovery"))
    kernel = _sim_kernel(tmp_path / "kernel", 'raise ValueError("boom from the kernel")')
    said: list[str] = []
    with pytest.raises(KernelFailedError, match="ERROR"):
        _esubmit(real_client, shared_ledger, kernel, say=said.append)
    tail = next(m for m in said if m.startswith("--- kernel log"))
    assert "boom from the kernel" in tail
    row = shared_ledger.submissions(order="time")[0]
    assert row["status"] == "kernel_error" and "boom from the kernel" in row["error"]
    assert len(real_client.submissions("llm-prompt-recovery")) == before


@pytest.mark.slow
def test_emulator_invalid_output_refused_then_ledger_has_every_attempt(real_client, shared_ledger, tmp_path):
    before = len(real_client.submissions("llm-prompt-recovery"))
    kernel = _sim_kernel(tmp_path / "kernel", 'return " "')
    with pytest.raises(SubmissionError, match="blank answer"):
        _esubmit(real_client, shared_ledger, kernel)
    assert len(real_client.submissions("llm-prompt-recovery")) == before
    statuses = [r["status"] for r in shared_ledger.submissions(order="time")]
    assert statuses[0] == "invalid_output"
    assert {"complete", "refused", "kernel_error", "invalid_output"} <= set(statuses)
    assert all(r["error"] for r in shared_ledger.submissions() if r["status"] != "complete")


def test_cli_reports_nothing_to_resume_and_missing_kernel(capsys):
    from kit.cli import run
    from kit.errors import InputError as IE

    assert run(["submit", "--resume", "--sandbox"]) == KaggleNotFoundError.exit_code
    assert "no interrupted submission to resume" in capsys.readouterr().err
    assert run(["submit", "nowhere", "--sandbox"]) == IE.exit_code
    assert "kit build-submission" in capsys.readouterr().err


def test_cli_sandbox_build_submit_refused_history(restore_env, capsys, tmp_path):
    """The commands end to end with --sandbox (the emulator started in the background, as a user gets it)."""
    import json

    from kit.chain.pushes import push_dataset
    from kit.cli import run
    from kit.config import KitConfig
    from kit.errors import InputError as IE
    from kit.kaggle.client import kaggle_client
    from kit.kaggle.sandbox import ensure_emulator, stop_emulator

    try:
        assert run(["build-submission", "--sandbox", "--template", "mean"]) == IE.exit_code  # nothing pushed yet
        said = capsys.readouterr()
        assert "run `kit wheels --kit-only --push --sandbox`" in said.err and "next:" not in said.out
        wheels = tmp_path / "wheels"  # a stand-in bundle (the kernel never runs here), pushed for real
        wheels.mkdir()
        (wheels / "manifest.json").write_text('{"kit_only": true, "wheels": []}')
        pushed = push_dataset(kaggle_client(KitConfig(), sandbox=True), wheels, "kit-offline-wheels", kind="wheels")
        assert run(["build-submission", "--sandbox", "--template", "mean", "--json"]) == 0
        built = json.loads(capsys.readouterr().out)
        assert built["kernel_ref"] == SIM_REF
        assert built["metadata"]["dataset_sources"] == [f"{SIM_USER}/kit-offline-wheels/{pushed.version}"]
        _admin(ensure_emulator(), "faults", {"kind": "daily_limit"})
        assert run(["submit", "--sandbox", "-m", "cli"]) == DailyLimitError.exit_code
        assert "no submissions left today" in capsys.readouterr().err
        assert run(["history", "--sandbox", "--sync", "--json"]) == 0
        captured = capsys.readouterr()
        rows = json.loads(captured.out)
        assert [(r["status"], r["message"], r["kernel_version"]) for r in rows] == [("refused", "cli", None)]
        assert "synced with the sandbox: 0 added" in captured.err
    finally:
        stop_emulator()


@pytest.mark.slow
def test_emulator_keeps_parameters_rendered_into_the_kernel(real_client, shared_ledger, tmp_path):
    """build-submission injects parameters with papermill; the sandbox run must see them, as Kaggle would."""
    import json

    from emulator_tools import notebook

    from kit.notebooks import render

    kernel = _sim_kernel(tmp_path / "kernel", "return WORD")
    src = tmp_path / "src.ipynb"
    nb = json.loads((kernel / "infer.ipynb").read_text())
    src.write_text(json.dumps(notebook("".join(nb["cells"][1]["source"]),
                                       parameters="input_dir = '/kaggle/input'\nWORD = 'default'")))
    render(src, kernel / "infer.ipynb", {"WORD": "rendered"})
    row, _ = _esubmit(real_client, shared_ledger, kernel, wait=True)
    out = (kernel / "output" / f"v{row['kernel_version']}" / "submission.csv").read_text()
    assert "rendered" in out and "default" not in out


def test_no_credentials_ends_the_attempt_with_its_reason_and_a_rerun_starts_afresh(kaggle_kernel):
    """A submit that fails before anything was pushed leaves a final row (error, the one-line reason), never
    "starting" for good; the next run is a new attempt, and the ledger keeps both."""
    from kit.errors import KaggleAuthError

    with pytest.raises(KaggleAuthError):
        submit(CFG, kaggle_kernel, sandbox=False, poll=FAST, say=lambda m: None)  # no credentials in tests
    [row] = _rows()
    assert row["status"] == "error" and "credentials" in row["error"] and "\n" not in row["error"]
    assert row["kernel_version"] is None
    client = FakeClient(sandbox=False)
    done = submit(CFG, kaggle_kernel, client=client, sandbox=False, poll=FAST, say=lambda m: None)
    assert done["id"] != row["id"] and done["status"] == "complete"
    assert [r["status"] for r in _rows()] == ["complete", "error"]


def test_a_dataset_missing_on_kaggle_ends_the_attempt_before_the_push(kernel):
    """A pinned dataset that Kaggle does not have (pushed from another account, deleted): nothing is pushed and
    the attempt ends as error, naming it."""
    class Gone(FakeClient):
        def dataset_version(self, ref):
            raise KaggleNotFoundError(f"dataset {ref} not found")

    client = Gone()
    with pytest.raises(KaggleNotFoundError, match="alice/kit-lora-adapter/3 not found"):
        _submit(client, kernel)
    assert "push" not in client.calls
    [row] = _rows()
    assert row["status"] == "error" and "alice/kit-lora-adapter/3 not found" in row["error"]


def test_a_sandbox_kernel_is_never_sent_to_kaggle_nor_the_reverse(kernel, tmp_path):
    """kit_kernel.json says which mode the kernel was built for: its refs name that mode's account and pushes.
    One line naming the file and both modes, before any call to Kaggle or any ledger row."""
    from kit.errors import InputError as IE

    client = FakeClient(sandbox=False)
    with pytest.raises(IE, match=r'kernel/kit_kernel.json: built for the sandbox \("sandbox": true\), but this '
                                 r"submit goes to Kaggle .*`kit build-submission`"):
        submit(CFG, kernel, client=client, sandbox=False, poll=FAST, say=lambda m: None)
    assert client.calls == [] and client.pushed == 0 and _rows() == []
    kaggle = _build(tmp_path / "kaggle-build", sandbox=False)
    client = FakeClient()
    with pytest.raises(IE, match=r'built for Kaggle \("sandbox": false\), but this submit goes to the sandbox .*'
                                 r"`kit build-submission --sandbox`"):
        _submit(client, kaggle)
    assert client.calls == [] and _rows() == []


def test_cli_refuses_a_sandbox_kernel_for_kaggle_before_asking_for_credentials(kernel, capsys):
    from kit.cli import run
    from kit.errors import InputError as IE

    assert run(["submit", "-m", "real"]) == IE.exit_code  # without credentials the auth error would be 7
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "kit_kernel.json: built for the sandbox" in err
    assert _rows() == []


def test_a_kernel_lacking_a_source_it_needs_is_refused_before_anything(kernel):
    """A kernel built before its wheels were pushed (by a kit that built it anyway) would die on Kaggle with
    "wheels dataset None not found" after its GPU session started: submit refuses it first."""
    import json

    from kit.errors import InputError as IE

    path = kernel / "kit_kernel.json"
    info = json.loads(path.read_text())
    assert info["required_sources"] == ["competition", "model", "wheels"]
    sources = {k: v for k, v in info["sources"].items() if k != "wheels"}
    path.write_text(json.dumps({**info, "sources": sources}))
    client = FakeClient()
    with pytest.raises(IE, match=r"kit_kernel.json: the kernel mounts no wheels source, which it cannot run without"):
        _submit(client, kernel)
    old = {k: v for k, v in info.items() if k != "required_sources"}  # as kit 6a38075 wrote it with nothing pushed
    path.write_text(json.dumps({**old, "sources": sources, "wheels": {"ref": "alice/kit-offline-wheels",
                                                                      "version": None, "content_hash": None}}))
    with pytest.raises(IE, match="mounts no wheels source"):
        _submit(client, kernel)
    assert client.calls == [] and _rows() == []


def test_long_waits_say_the_state_and_elapsed_time_between_polls(kernel, monkeypatch):
    """Kaggle is polled a minute apart: a heartbeat line (state, elapsed time) comes between polls."""
    import kit.chain.submit as chain

    monkeypatch.setattr(chain, "HEARTBEAT", 0.05)
    client = FakeClient(kernel_states=["RUNNING"] * 4 + ["COMPLETE"])
    row, said = _submit(client, kernel, poll=(0.2, 0.2))
    assert row["status"] == "complete"
    kernel_lines = [m for m in said if m.startswith("kernel alice/kit-prompt-recovery-infer v1: ")]
    assert kernel_lines[0] == "kernel alice/kit-prompt-recovery-infer v1: RUNNING (0 s)"
    assert sum("still RUNNING (" in m for m in kernel_lines) >= 4  # four polls 0.2 s apart, a beat every 0.05 s
    assert kernel_lines[-1].startswith("kernel alice/kit-prompt-recovery-infer v1: COMPLETE (")
    assert (chain.duration(42.4), chain.duration(185), chain.duration(7620)) == ("42 s", "3 min 05 s", "2 h 07 min")


def test_ctrl_c_prints_the_exact_resume_command_and_records_it(kernel, tmp_path, capsys):
    """click turns ^C into a bare "aborted": the chain says how to continue on the terminal before that."""
    client = FakeClient(interrupt_kernel_polls=1)
    with pytest.raises(KeyboardInterrupt):
        submit(CFG, kernel, client=client, sandbox=True, poll=FAST)  # the default `say`: the terminal
    err = capsys.readouterr().err
    assert "interrupted: attempt #1 is kept (running); continue it with: kit submit --resume --sandbox\n" in err
    assert "`kit submit --resume --sandbox` continues this attempt" in _rows()[0]["error"]
    row = submit(CFG, None, client=client, sandbox=True, poll=FAST, resume=True, say=lambda m: None)
    assert row["status"] == "complete" and client.pushed == 1
    elsewhere = Path(shutil.copytree(kernel, tmp_path / "elsewhere" / "my kernel"))  # not ./kernel: named, quoted
    client.interrupt_kernel_polls = 1
    with pytest.raises(KeyboardInterrupt):
        submit(CFG, elsewhere, client=client, sandbox=True, poll=FAST, force=True)
    command = f"kit submit --resume --sandbox '{elsewhere}'"
    assert f"interrupted: attempt #2 is kept (running); continue it with: {command}\n" in capsys.readouterr().err
    row = submit(CFG, elsewhere, client=client, sandbox=True, poll=FAST, resume=True, say=lambda m: None)
    assert (row["id"], row["status"], row["kernel_dir"]) == (2, "complete", str(elsewhere))


def test_unchanged_content_is_refused_before_anything_is_spent(kernel, tmp_path, capsys):
    from kit.errors import AlreadySubmittedError

    client = FakeClient()
    first, _ = _submit(client, kernel)
    assert first["status"] == "complete" and first["content_key"]
    calls = list(client.calls)
    with pytest.raises(AlreadySubmittedError, match=f"attempt #{first['id']} .*submission {first['submission_ref']}"):
        _submit(client, kernel)
    assert client.calls == calls and client.pushed == 1  # no limit check, no push, no submission
    refused = _rows()[0]
    assert refused["status"] == "refused" and f"#{first['id']}" in refused["error"]
    rebuilt = Path(shutil.copytree(kernel, tmp_path / "rebuilt"))  # same content in another folder: same key
    with pytest.raises(AlreadySubmittedError):
        _submit(client, rebuilt)
    forced, _ = _submit(client, rebuilt, force=True)
    assert forced["status"] == "complete" and client.pushed == 2


def test_kernel_built_for_another_competition_is_refused_before_anything(kernel):
    """kit_kernel.json records the competition it was built for: this workspace's kit.toml names another."""
    import json

    from kit.errors import InputError as IE

    info = json.loads((kernel / "kit_kernel.json").read_text())
    (kernel / "kit_kernel.json").write_text(json.dumps({**info, "competition": "another-comp"}))
    client = FakeClient()
    with pytest.raises(IE, match="built for competition 'another-comp'"):
        _submit(client, kernel)
    assert client.calls == [] and _rows() == []
