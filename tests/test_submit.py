"""`kit submit`: the pinned chain, driven against tests/fakes.FakeClient (bound to kit.kaggle.client.ChainClient).

The generic chain runs on `chain_pack`, each toy pack in turn (a CSV through the file mechanism, a Parquet file
through the inference server's); pack 1 (prompt recovery) keeps only what is its own: the adapter and wheels
datasets a kernel mounts, waits for and records. End-to-end runs against the emulator (the real `kaggle` client
over HTTP) are at the bottom, marked slow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fakes import FakeClient
from helpers import pr_config

from kit.chain.build import build_submission
from kit.chain.submit import log_tail, submit
from kit.config import config_from_dict
from kit.errors import (
    AlreadySubmittedError,
    DailyLimitError,
    DirtyTreeError,
    InputError,
    KaggleAuthError,
    KaggleNotFoundError,
    KernelFailedError,
    SubmissionError,
    WaitTimeoutError,
)
from kit.ledger import Ledger
from kit.mechanisms.file import check_submission_file

pytestmark = pytest.mark.usefixtures("prompt_recovery_workspace")  # the CLI tests run in a pack-1 workspace

PR = "llm-prompt-recovery"
PR_CFG = config_from_dict({"competition": {"slug": PR},
                           "kaggle": {"username": "alice", "base_model": "alice/mistral-7b-it-v02"}})
FAST = (0.001, 0.002)
# The chain's own control flow (waits, resumes, git state, refusals) does not depend on the pack: one toy pack
# proves it; what does (the output file, the kernel's refs and record) runs on both.
ONE_PACK = pytest.mark.parametrize("chain_pack", ["toy-echo"], indirect=True, scope="module")


def _under_home(root: Path, build):
    """`build()` under its own KIT_HOME (module-scoped fixtures run before the per-test one)."""
    old = os.environ.get("KIT_HOME")
    os.environ["KIT_HOME"] = str(root / "home")
    try:
        return build()
    finally:
        if old is None:
            os.environ.pop("KIT_HOME")
        else:
            os.environ["KIT_HOME"] = old


def _build(pack, root: Path, sandbox: bool) -> Path:
    """The toy pack's kernel with its default recipe, built in that mode (a toy kernel mounts no dataset)."""
    _under_home(root, lambda: build_submission(pack.config(), out=root / "kernel", sandbox=sandbox, username="alice"))
    return root / "kernel"


@pytest.fixture(scope="module")
def built(chain_pack, tmp_path_factory) -> Path:
    """One kernel built for the sandbox, copied by each test."""
    return _build(chain_pack, tmp_path_factory.mktemp("built"), sandbox=True)


@pytest.fixture()
def kernel(built, tmp_path) -> Path:
    return Path(shutil.copytree(built, tmp_path / "work" / "kernel"))


def _ref(kernel: Path) -> str:
    return json.loads((kernel / "kernel-metadata.json").read_text())["id"]


def _client(pack, **kw) -> FakeClient:
    """A fake whose finished kernel leaves a valid submission for `pack`."""
    kw.setdefault("outputs", pack.good_output())
    return FakeClient(**kw)


def _submit(pack, client, kernel, **kw):
    said: list[str] = []
    kw.setdefault("timeout", 5.0)
    kw.setdefault("poll", FAST)
    row = submit(pack.config(), kernel, client=client, sandbox=True, say=said.append, **kw)
    return row, said


def _rows() -> list[dict]:
    with Ledger() as led:
        return led.submissions(order="time")


# ============================================================================ the generic chain, on each toy pack


def test_happy_path_records_provenance_scores_and_snapshot(chain_pack, kernel):
    client = _client(chain_pack)
    row, said = _submit(chain_pack, client, kernel, message="first try")
    ref = _ref(kernel)
    assert ref == "alice/" + chain_pack.pack.config_defaults()["kaggle"]["kernel_slug"]
    assert row["status"] == "complete" and row["public_score"] == pytest.approx(0.6123)
    assert row["private_score"] == pytest.approx(0.6001) and row["submission_ref"] == 100
    assert (row["competition"], row["kernel_ref"], row["kernel_version"]) == (chain_pack.slug, ref, 1)
    assert row["template"] == chain_pack.templates[0] and row["submission_file"] == chain_pack.file_name
    assert row["adapter_ref"] is None and row["kit_version"]
    assert row["git_sha"] is None and row["sandbox"] == 1  # tests run outside a git repo
    assert json.loads(row["parameters"])["template"] == chain_pack.templates[0]
    assert client.subs[100].description == f"first try [kit {ref}/1]"
    assert client.subs[100].file_name == chain_pack.file_name
    # order: limit check, then push (no dataset to wait for), then the submission
    assert client.calls.index("limits") < client.calls.index("push") < client.calls.index("submit v1")
    assert not any(c.startswith("dataset_status") for c in client.calls)
    with Ledger() as led:
        snap = led.leaderboard_snapshots(chain_pack.slug)[-1]
    assert (snap["our_best"], snap["our_rank"], snap["top_score"]) == (pytest.approx(0.6123), 2, 0.71)
    assert any("RUNNING" in s for s in said)
    assert f"kernel output {chain_pack.file_name}: 2 rows, valid" in said


def test_kernel_error_shows_log_tail_and_submits_nothing(chain_pack, kernel):
    client = _client(chain_pack, kernel_states=["RUNNING", "ERROR"], failure="Notebook failed in cell 4")
    with pytest.raises(KernelFailedError, match="Notebook failed in cell 4"):
        _submit(chain_pack, client, kernel)
    assert not any(c.startswith("submit") for c in client.calls)
    row = _rows()[0]
    assert row["status"] == "kernel_error" and "ValueError: boom" in row["error"]


def test_daily_limit_refused_before_push(chain_pack, kernel):
    client = _client(chain_pack, allowed=0)
    with pytest.raises(DailyLimitError, match="no submissions left today"):
        _submit(chain_pack, client, kernel)
    assert "push" not in client.calls
    row = _rows()[0]
    assert row["status"] == "refused" and "no submissions left" in row["error"]


@pytest.mark.parametrize("fault", ["blank value", "missing column", "no rows", "duplicate id", "no file"])
def test_invalid_output_is_refused_before_submitting(chain_pack, kernel, fault):
    client = _client(chain_pack, outputs={} if fault == "no file" else chain_pack.bad_outputs()[fault])
    with pytest.raises(SubmissionError, match="nothing was submitted") as refused:
        _submit(chain_pack, client, kernel)
    assert f"kernel output {chain_pack.file_name}" in str(refused.value)
    assert not any(c.startswith("submit") for c in client.calls)
    assert _rows()[0]["status"] == "invalid_output"


@ONE_PACK
def test_interrupted_wait_then_resume_submits_exactly_once(chain_pack, kernel):
    client = _client(chain_pack, interrupt_kernel_polls=1)
    with pytest.raises(KeyboardInterrupt):
        _submit(chain_pack, client, kernel)
    assert _rows()[0]["status"] == "running"
    row, said = _submit(chain_pack, client, None, resume=True)  # the kernel folder comes from the ledger row
    assert row["status"] == "complete" and client.pushed == 1
    assert [c for c in client.calls if c.startswith("submit")] == ["submit v1"]
    assert any("continuing attempt" in s for s in said)
    with pytest.raises(KaggleNotFoundError, match="no interrupted submission"):
        _submit(chain_pack, client, None, resume=True)


@ONE_PACK
def test_rerun_after_lost_submit_response_finds_it_on_kaggle(chain_pack, kernel):
    client = _client(chain_pack, fail_submit_after_create=True)
    with pytest.raises(ConnectionError):
        _submit(chain_pack, client, kernel)
    assert _rows()[0]["status"] == "submitting"
    row, _ = _submit(chain_pack, client, kernel)  # a plain re-run with the same kernel hash continues the attempt
    assert row["status"] == "complete" and row["submission_ref"] == 100
    assert len(client.subs) == 1 and client.pushed == 1 and len(_rows()) == 1


@ONE_PACK
def test_timeout_keeps_attempt_resumable_and_no_wait(chain_pack, kernel):
    client = _client(chain_pack, kernel_states=["RUNNING"])
    with pytest.raises(WaitTimeoutError, match="still RUNNING"):
        _submit(chain_pack, client, kernel, timeout=0.01)
    assert _rows()[0]["status"] == "running" and "still RUNNING" in _rows()[0]["error"]
    client.kernel_states = ["COMPLETE"]
    row, _ = _submit(chain_pack, client, kernel, resume=True, wait=False)  # one status check, submit, no score wait
    assert row["status"] == "pending" and client.pushed == 1
    row, _ = _submit(chain_pack, client, kernel, resume=True)
    assert row["status"] == "complete" and len(client.subs) == 1


@ONE_PACK
def test_no_wait_returns_after_push(chain_pack, kernel):
    client = _client(chain_pack)
    row, _ = _submit(chain_pack, client, kernel, wait=False)
    assert row["status"] == "running" and row["kernel_version"] == 1 and "submit v1" not in client.calls


@ONE_PACK
def test_scoring_error_is_recorded(chain_pack, kernel):
    client = _client(chain_pack, score_states=["PENDING", "ERROR"])
    with pytest.raises(SubmissionError, match="Submission scoring error"):
        _submit(chain_pack, client, kernel)
    assert _rows()[0]["status"] == "error"
    client.score_states = ["COMPLETE"]
    row, _ = _submit(chain_pack, client, kernel)  # a final attempt is not continued: a new attempt pushes v2
    assert row["kernel_version"] == 2 and len(_rows()) == 2


def _git(work: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=work, check=True)


@ONE_PACK
def test_dirty_tree_refused_and_recorded(chain_pack, kernel):
    work = kernel.parent
    _git(work, "init", "-q")
    (work / "train.py").write_text("x = 1\n")
    _git(work, "add", "train.py", "kit.toml")  # the workspace file, committed
    _git(work, "commit", "-qm", "init")
    client = _client(chain_pack)
    row, _ = _submit(chain_pack, client, kernel)  # the untracked kernel folder itself does not count as a change
    assert row["git_sha"] and row["git_dirty"] == 0 and row["status"] == "complete"
    (work / "train.py").write_text("x = 2\n")
    with pytest.raises(DirtyTreeError):
        _submit(chain_pack, client, kernel)
    assert client.pushed == 1 and [r["status"] for r in _rows()] == ["refused", "complete"]


@ONE_PACK
def test_dirty_tree_allowed_records_flag(chain_pack, kernel):
    work = kernel.parent
    _git(work, "init", "-q")
    _git(work, "commit", "-q", "--allow-empty", "-m", "init")
    (work / "a.txt").write_text("a")  # an untracked file outside the kernel folder makes the tree dirty
    client = _client(chain_pack)
    with pytest.raises(DirtyTreeError):
        _submit(chain_pack, client, kernel)
    assert _rows()[0]["status"] == "refused" and "push" not in client.calls
    row, _ = _submit(chain_pack, client, kernel, allow_dirty=True)
    assert row["status"] == "complete" and row["git_dirty"] == 1


def test_no_credentials_ends_the_attempt_with_its_reason_and_a_rerun_starts_afresh(chain_pack, tmp_path):
    """A submit that fails before anything was pushed leaves a final row (error, the one-line reason), never
    "starting" for good; the next run is a new attempt, and the ledger keeps both."""
    kernel = _build(chain_pack, tmp_path / "kaggle-build", sandbox=False)
    with pytest.raises(KaggleAuthError):
        submit(chain_pack.config(), kernel, sandbox=False, poll=FAST, say=lambda m: None)  # no credentials here
    [row] = _rows()
    assert row["status"] == "error" and "credentials" in row["error"] and "\n" not in row["error"]
    assert row["kernel_version"] is None
    client = _client(chain_pack, sandbox=False)
    done = submit(chain_pack.config(), kernel, client=client, sandbox=False, poll=FAST, say=lambda m: None)
    assert done["id"] != row["id"] and done["status"] == "complete"
    assert [r["status"] for r in _rows()] == ["complete", "error"]


def test_a_sandbox_kernel_is_never_sent_to_kaggle_nor_the_reverse(chain_pack, kernel, tmp_path):
    """kit_kernel.json says which mode the kernel was built for: its refs name that mode's account and pushes.
    One line naming the file and both modes, before any call to Kaggle or any ledger row."""
    client = _client(chain_pack, sandbox=False)
    with pytest.raises(InputError, match=r'kernel/kit_kernel.json: built for the sandbox \("sandbox": true\), but '
                                         r"this submit goes to Kaggle .*`kit build-submission`"):
        submit(chain_pack.config(), kernel, client=client, sandbox=False, poll=FAST, say=lambda m: None)
    assert client.calls == [] and client.pushed == 0 and _rows() == []
    kaggle = _build(chain_pack, tmp_path / "kaggle-build", sandbox=False)
    client = _client(chain_pack)
    with pytest.raises(InputError, match=r'built for Kaggle \("sandbox": false\), but this submit goes to the '
                                         r"sandbox .*`kit build-submission --sandbox`"):
        _submit(chain_pack, client, kaggle)
    assert client.calls == [] and _rows() == []


def test_cli_refuses_a_sandbox_kernel_for_kaggle_before_asking_for_credentials(chain_workspace, kernel, capsys):
    from kit.cli import run

    assert run(["submit", "-m", "real"]) == InputError.exit_code  # without credentials the auth error would be 7
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "kit_kernel.json: built for the sandbox" in err
    assert _rows() == []


def test_cli_reports_nothing_to_resume_and_missing_kernel(chain_workspace, capsys):
    from kit.cli import run

    assert run(["submit", "--resume", "--sandbox"]) == KaggleNotFoundError.exit_code
    assert "no interrupted submission to resume" in capsys.readouterr().err
    assert run(["submit", "nowhere", "--sandbox"]) == InputError.exit_code
    assert "kit build-submission" in capsys.readouterr().err


@ONE_PACK
def test_long_waits_say_the_state_and_elapsed_time_between_polls(chain_pack, kernel, monkeypatch):
    """Kaggle is polled a minute apart: a heartbeat line (state, elapsed time) comes between polls."""
    import kit.chain.submit as chain

    monkeypatch.setattr(chain, "HEARTBEAT", 0.05)
    client = _client(chain_pack, kernel_states=["RUNNING"] * 4 + ["COMPLETE"])
    row, said = _submit(chain_pack, client, kernel, poll=(0.2, 0.2))
    assert row["status"] == "complete"
    ref = _ref(kernel)
    kernel_lines = [m for m in said if m.startswith(f"kernel {ref} v1: ")]
    assert kernel_lines[0] == f"kernel {ref} v1: RUNNING (0 s)"
    assert sum("still RUNNING (" in m for m in kernel_lines) >= 4  # four polls 0.2 s apart, a beat every 0.05 s
    assert kernel_lines[-1].startswith(f"kernel {ref} v1: COMPLETE (")
    assert (chain.duration(42.4), chain.duration(185), chain.duration(7620)) == ("42 s", "3 min 05 s", "2 h 07 min")


@ONE_PACK
def test_ctrl_c_prints_the_exact_resume_command_and_records_it(chain_pack, kernel, tmp_path, capsys):
    """click turns ^C into a bare "aborted": the chain says how to continue on the terminal before that."""
    cfg = chain_pack.config()
    client = _client(chain_pack, interrupt_kernel_polls=1)
    with pytest.raises(KeyboardInterrupt):
        submit(cfg, kernel, client=client, sandbox=True, poll=FAST)  # the default `say`: the terminal
    err = capsys.readouterr().err
    assert "interrupted: attempt #1 is kept (running); continue it with: kit submit --resume --sandbox\n" in err
    assert "`kit submit --resume --sandbox` continues this attempt" in _rows()[0]["error"]
    row = submit(cfg, None, client=client, sandbox=True, poll=FAST, resume=True, say=lambda m: None)
    assert row["status"] == "complete" and client.pushed == 1
    elsewhere = Path(shutil.copytree(kernel, tmp_path / "elsewhere" / "my kernel"))  # not ./kernel: named, quoted
    client.interrupt_kernel_polls = 1
    with pytest.raises(KeyboardInterrupt):
        submit(cfg, elsewhere, client=client, sandbox=True, poll=FAST, force=True)
    command = f"kit submit --resume --sandbox '{elsewhere}'"
    assert f"interrupted: attempt #2 is kept (running); continue it with: {command}\n" in capsys.readouterr().err
    row = submit(cfg, elsewhere, client=client, sandbox=True, poll=FAST, resume=True, say=lambda m: None)
    assert (row["id"], row["status"], row["kernel_dir"]) == (2, "complete", str(elsewhere))


@ONE_PACK
def test_unchanged_content_is_refused_before_anything_is_spent(chain_pack, kernel, tmp_path):
    client = _client(chain_pack)
    first, _ = _submit(chain_pack, client, kernel)
    assert first["status"] == "complete" and first["content_key"]
    calls = list(client.calls)
    with pytest.raises(AlreadySubmittedError, match=f"attempt #{first['id']} .*submission {first['submission_ref']}"):
        _submit(chain_pack, client, kernel)
    assert client.calls == calls and client.pushed == 1  # no limit check, no push, no submission
    refused = _rows()[0]
    assert refused["status"] == "refused" and f"#{first['id']}" in refused["error"]
    rebuilt = Path(shutil.copytree(kernel, tmp_path / "rebuilt"))  # same content in another folder: same key
    with pytest.raises(AlreadySubmittedError):
        _submit(chain_pack, client, rebuilt)
    forced, _ = _submit(chain_pack, client, rebuilt, force=True)
    assert forced["status"] == "complete" and client.pushed == 2


def test_kernel_built_for_another_competition_is_refused_before_anything(chain_pack, kernel):
    """kit_kernel.json records the competition it was built for: this workspace's kit.toml names another."""
    info = json.loads((kernel / "kit_kernel.json").read_text())
    assert info["competition"] == chain_pack.slug
    (kernel / "kit_kernel.json").write_text(json.dumps({**info, "competition": "another-comp"}))
    client = _client(chain_pack)
    with pytest.raises(InputError, match="built for competition 'another-comp'"):
        _submit(chain_pack, client, kernel)
    assert client.calls == [] and _rows() == []


def test_check_submission_file_and_log_tail(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("id,answer\n1,seven\n2,\"eight, or nine\"\n")
    assert check_submission_file(path, ["id", "answer"], {"1", "2"}) == 2
    with pytest.raises(SubmissionError, match="expected id"):
        check_submission_file(path, ["id", "answer"], {"1", "2", "3"})
    with pytest.raises(SubmissionError, match="missing from the kernel output"):
        check_submission_file(tmp_path / "none.csv", ["id", "answer"])
    assert log_tail("a\nb\nc\n", lines=2) == "b\nc"
    assert log_tail('[{"stream_name": "stdout", "data": "x\\ny\\n"}]', lines=1) == "y"


# ============================================================================ pack 1: the datasets its kernel mounts


@pytest.fixture(scope="module")
def pr_built(tmp_path_factory) -> Path:
    """Pack 1's kernel (template best) for the sandbox, the adapter (v3) and wheels (v2) pushed in that mode."""
    root = tmp_path_factory.mktemp("built-pr")

    def build() -> None:
        with Ledger() as led:
            led.add_dataset_version("adapter", "alice/kit-lora-adapter", 3, "h3", sandbox=True)
            led.add_dataset_version("wheels", "alice/kit-offline-wheels", 2, "w2", sandbox=True)
        build_submission(PR_CFG, template="best", out=root / "kernel", sandbox=True, username="alice")

    _under_home(root, build)
    return root / "kernel"


@pytest.fixture()
def pr_kernel(pr_built, tmp_path) -> Path:
    return Path(shutil.copytree(pr_built, tmp_path / "work" / "kernel"))


def _pr_submit(client, kernel, **kw):
    said: list[str] = []
    row = submit(PR_CFG, kernel, client=client, sandbox=True, say=said.append, timeout=5.0, poll=FAST, **kw)
    return row, said


def test_pinned_datasets_are_waited_for_before_the_push_and_recorded(pr_kernel):
    client = FakeClient(dataset_states=["blobs_received", "ready"])
    row, _ = _pr_submit(client, pr_kernel, message="first try")
    assert row["status"] == "complete" and row["kernel_ref"] == "alice/kit-prompt-recovery-infer"
    assert (row["adapter_ref"], row["adapter_version"]) == ("alice/kit-lora-adapter", 3)
    assert row["base_model_source"] == "alice/mistral-7b-it-v02" and row["template"] == "best"
    # datasets READY (waited through blobs_received) before the kernel is pushed
    assert client.calls.count("dataset_status alice/kit-lora-adapter/3") == 2
    assert client.calls.index("dataset_status alice/kit-lora-adapter/3") < client.calls.index("push")


def test_a_dataset_missing_on_kaggle_ends_the_attempt_before_the_push(pr_kernel):
    """A pinned dataset that Kaggle does not have (pushed from another account, deleted): nothing is pushed and
    the attempt ends as error, naming it."""
    class Gone(FakeClient):
        def dataset_version(self, ref: str) -> tuple[str, int | None]:
            raise KaggleNotFoundError(f"dataset {ref} not found")

    client = Gone()
    with pytest.raises(KaggleNotFoundError, match="alice/kit-lora-adapter/3 not found"):
        _pr_submit(client, pr_kernel)
    assert "push" not in client.calls
    [row] = _rows()
    assert row["status"] == "error" and "alice/kit-lora-adapter/3 not found" in row["error"]


def test_a_kernel_lacking_a_source_it_needs_is_refused_before_anything(pr_kernel):
    """A kernel built before its wheels were pushed (by a kit that built it anyway) would die on Kaggle with
    "wheels dataset None not found" after its GPU session started: submit refuses it first."""
    path = pr_kernel / "kit_kernel.json"
    info = json.loads(path.read_text())
    assert info["required_sources"] == ["competition", "model", "wheels"]
    sources = {k: v for k, v in info["sources"].items() if k != "wheels"}
    path.write_text(json.dumps({**info, "sources": sources}))
    client = FakeClient()
    with pytest.raises(InputError, match=r"kit_kernel.json: the kernel mounts no wheels source, which it cannot run "
                                         r"without"):
        _pr_submit(client, pr_kernel)
    old = {k: v for k, v in info.items() if k != "required_sources"}  # as kit 6a38075 wrote it with nothing pushed
    path.write_text(json.dumps({**old, "sources": sources, "wheels": {"ref": "alice/kit-offline-wheels",
                                                                      "version": None, "content_hash": None}}))
    with pytest.raises(InputError, match="mounts no wheels source"):
        _pr_submit(client, pr_kernel)
    assert client.calls == [] and _rows() == []


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
    from kit.kaggle.client import KaggleClient

    _admin(emulator, "faults", method="DELETE")
    yield KaggleClient(pr_config(), sandbox=True, endpoint_url=emulator.url, retries=2, max_retry_wait=0.3,
                       progress=False)
    _admin(emulator, "faults", method="DELETE")


def _esubmit(client, ledger, kernel, say=None, **kw):

    said: list[str] = []
    row = submit(pr_config(), kernel, client=client, ledger=ledger, sandbox=True, poll=(0.2, 1.0), timeout=120,
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


def test_cli_sandbox_build_submit_refused_history(restore_env, capsys, tmp_path):
    """The commands end to end with --sandbox (the emulator started in the background, as a user gets it)."""
    import json

    from kit.chain.pushes import push_dataset
    from kit.cli import run
    from kit.kaggle.client import kaggle_client
    from kit.kaggle.sandbox import ensure_emulator, stop_emulator

    try:
        # nothing pushed yet
        assert run(["build-submission", "--sandbox", "--template", "mean"]) == InputError.exit_code
        said = capsys.readouterr()
        assert "run `kit wheels --kit-only --push --sandbox`" in said.err and "next:" not in said.out
        wheels = tmp_path / "wheels"  # a stand-in bundle (the kernel never runs here), pushed for real
        wheels.mkdir()
        (wheels / "manifest.json").write_text('{"kit_only": true, "wheels": []}')
        pushed = push_dataset(kaggle_client(pr_config(), sandbox=True), wheels, "kit-offline-wheels", kind="wheels")
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


