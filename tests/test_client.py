"""KaggleClient (the official KaggleApi underneath) against the emulator: datasets, kernels, code submissions,
leaderboard, and every injected fault ending in a clear KitError or a successful retry, never a hang."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from emulator_tools import SimplePack, write_kernel
from emulator_tools import admin as emulator_admin
from helpers import pr_config

from kit.chain.pushes import push_dataset
from kit.errors import (
    DailyLimitError,
    KaggleAuthError,
    KaggleError,
    KaggleNotFoundError,
    KaggleRateLimitError,
    KernelFailedError,
    SubmissionError,
    WaitTimeoutError,
)
from kit.kaggle.client import KaggleClient
from kit.kaggle.emulator import start_in_thread
from kit.kaggle.emulator.state import DEFAULTS
from kit.kaggle.results import log_text
from kit.ledger import Ledger

pytestmark = pytest.mark.usefixtures("prompt_recovery_workspace")  # the tests run in a pack-1 workspace

COMP = "llm-prompt-recovery"
USER = "sandbox-user"
# Reads the hidden (or public) test.csv from ../input like a Kaggle script, writes submission.csv.
ANSWER_SCRIPT = """
import csv, os
names = {"1": "alpha", "2": "beta", "3": "gamma", "4": "wrong"}
rows = list(csv.DictReader(open(os.path.join("..", "input", "competitions", "llm-prompt-recovery", "test.csv"))))
with open("submission.csv", "w") as fh:
    fh.write("id,answer\\n" + "".join(r["id"] + "," + names.get(r["id"], "x") + "\\n" for r in rows))
print("rows", len(rows))
"""


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    running = start_in_thread(tmp_path_factory.mktemp("emulator-state"), pack=SimplePack(), ready_delay=0.2)
    yield running
    running.stop()


def admin(emulator, path: str, data: object | None = None, method: str | None = None) -> dict:
    return emulator_admin(emulator.url, path, data, method)


@pytest.fixture
def client(emulator):
    admin(emulator, "faults", method="DELETE")
    cli = KaggleClient(pr_config(), sandbox=True, endpoint_url=emulator.url, retries=2, max_retry_wait=0.3,
                       progress=False)
    yield cli
    admin(emulator, "faults", method="DELETE")
    admin(emulator, "config", {"ready_delay": 0.2, "key": "sandbox-key", "token": "sandbox-token"})


def adapter_dir(root: Path, payload: bytes = b"weights") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "adapter_config.json").write_text('{"r": 8}')
    (root / "adapter_model.safetensors").write_bytes(payload)
    return root


def test_dataset_create_version_ready_and_skip(client, tmp_path):
    folder = adapter_dir(tmp_path / "adapter", b"\0" * 200_000)
    started = time.monotonic()
    first = push_dataset(client, folder, "client-adapter", kind="adapter", poll=0.05, timeout=10)
    assert (first.ref, first.version, first.status, first.skipped) == (f"{USER}/client-adapter", 1, "ready", False)
    (folder / "adapter_model.safetensors").write_bytes(b"new weights")
    second = push_dataset(client, folder, "client-adapter", kind="adapter", poll=0.05, timeout=10)
    elapsed = time.monotonic() - started
    print(f"official KaggleApi dataset flow (create, version, both to READY): {elapsed:.2f} s")
    assert elapsed < 5  # issue 6 target; the emulator's processing delay is 0.2 s per version here
    assert second.version == 2 and second.content_hash != first.content_hash
    again = push_dataset(client, folder, "client-adapter", kind="adapter", poll=0.05, timeout=10)
    assert again.skipped and again.version == 2
    rows = Ledger().datasets()
    assert [(r["version"], r["status"]) for r in rows] == [(1, "ready"), (2, "ready"), (2, "skipped")]
    assert client.dataset_status(first.ref) == "ready"


def test_dataset_processing_failure_is_reported(client, emulator, tmp_path):
    admin(emulator, "faults", {"kind": "dataset_failed", "times": 1})
    with pytest.raises(KaggleError, match="failed to process"):
        push_dataset(client, adapter_dir(tmp_path / "a"), "client-failing", kind="adapter", poll=0.05, timeout=10)


def test_dataset_quota_refusal_is_reported(client, emulator, tmp_path):
    admin(emulator, "faults", {"kind": "dataset_quota", "message": "Private datasets quota exceeded", "times": 1})
    with pytest.raises(KaggleError, match="quota exceeded"):
        push_dataset(client, adapter_dir(tmp_path / "a"), "client-quota", kind="adapter", poll=0.05, timeout=10)
    assert Ledger().datasets() == []  # nothing recorded for a refused push


def test_dataset_wait_times_out(client, emulator, tmp_path):
    admin(emulator, "config", {"ready_delay": 60})
    started = time.monotonic()
    with pytest.raises(WaitTimeoutError, match="still"):
        push_dataset(client, adapter_dir(tmp_path / "a"), "client-slow", kind="adapter", poll=0.05, timeout=0.5)
    assert time.monotonic() - started < 5


def test_interrupted_upload_resumes(client, emulator, tmp_path):
    admin(emulator, "faults", {"method": "Upload", "status": 503, "times": 1})
    payload = bytes(range(256)) * 400
    push = push_dataset(client, adapter_dir(tmp_path / "a", payload), "client-resume", kind="adapter", poll=0.05)
    stored = emulator.server.state.dataset_dir(push.ref, push.version)
    assert (stored / "adapter_model.safetensors").read_bytes() == payload


def test_rate_limit_retried_then_reported(client, emulator):
    admin(emulator, "faults", {"method": "GetSubmissionLimits", "status": 429, "retry_after": 0.1, "times": 1})
    assert client.submission_limits(COMP).num_allowed_now == 5
    admin(emulator, "faults", {"method": "GetSubmissionLimits", "status": 429, "retry_after": 0.1})
    with pytest.raises(KaggleRateLimitError):
        client.submission_limits(COMP)


def test_server_error_retried_then_reported(client, emulator):
    admin(emulator, "faults", {"method": "ListSubmissions", "status": 500, "times": 1})
    assert isinstance(client.submissions(COMP), list)
    admin(emulator, "faults", {"method": "ListSubmissions", "status": 500, "message": "backend down"})
    with pytest.raises(KaggleError, match="backend down"):
        client.submissions(COMP)


def test_not_found_and_auth_errors(client, emulator):
    with pytest.raises(KaggleNotFoundError):
        client.dataset_status(f"{USER}/no-such-dataset")
    with pytest.raises(KaggleNotFoundError):
        client.kernel_status(f"{USER}/no-such-kernel", 3)
    admin(emulator, "config", {"token": "rotated-token"})
    with pytest.raises(KaggleAuthError):
        client.submission_limits(COMP)


def test_no_credentials_is_a_clear_error():
    with pytest.raises(KaggleAuthError, match="no Kaggle credentials"):
        KaggleClient(pr_config())


@pytest.mark.slow  # starts a kernel
def test_kernel_error_and_timeout(client, emulator, tmp_path):
    admin(emulator, "faults", {"kind": "kernel_error", "message": "CUDA out of memory", "times": 1})
    push = client.kernel_push(write_kernel(tmp_path / "k1", f"{USER}/client-oom", "print(1)"))
    with pytest.raises(KernelFailedError, match="CUDA out of memory"):
        client.wait_kernel(push.ref, push.version, timeout=10, poll=0.05)
    slow = client.kernel_push(write_kernel(tmp_path / "k2", f"{USER}/client-slow", "import time; time.sleep(60)"),
                              timeout=1)
    with pytest.raises(KernelFailedError, match="Notebook Timeout"):
        client.wait_kernel(slow.ref, slow.version, timeout=20, poll=0.1)
    failing = client.kernel_push(write_kernel(tmp_path / "k3", f"{USER}/client-raise", "raise SystemExit('bad input')"))
    with pytest.raises(KernelFailedError, match="bad input"):
        client.wait_kernel(failing.ref, failing.version, timeout=20, poll=0.1)
    assert "bad input" in client.kernel_log(failing.ref, failing.version)


def test_kernel_push_refuses_unknown_sources(client, tmp_path):
    folder = write_kernel(tmp_path / "k", f"{USER}/client-missing", "print(1)",
                          dataset_sources=[f"{USER}/never-pushed"])
    with pytest.raises(KaggleError, match="never-pushed"):
        client.kernel_push(folder)


@pytest.mark.slow  # starts a kernel
def test_script_kernel_submission_scored_split(client, emulator, tmp_path):
    ds = push_dataset(client, adapter_dir(tmp_path / "a"), "client-script-ds", kind="adapter", poll=0.05)
    folder = write_kernel(tmp_path / "k", f"{USER}/client-script", ANSWER_SCRIPT, dataset_sources=[ds.ref],
                          competition_sources=[COMP])
    push = client.kernel_push(folder)
    assert client.wait_kernel(push.ref, push.version, timeout=30, poll=0.1) == "COMPLETE"
    files = client.kernel_output(push.ref, push.version, tmp_path / "out")
    assert (tmp_path / "out" / "submission.csv").read_text() == "id,answer\n-1,x\n"  # the public placeholder row
    assert any(p.name.endswith(".log") for p in files)
    ref = client.submit_code(COMP, push.ref, push.version, "submission.csv", "script run")
    sub = client.wait_submission(ref, timeout=30, poll=0.1)
    assert (sub.status, sub.public_score, sub.private_score) == ("COMPLETE", 1.0, 0.5)
    assert client.submission_limits(COMP).num_today >= 1
    board = client.leaderboard(COMP)
    assert [e.team_name for e in board][:2] == [USER, "Seeded Team Alpha"] and board[0].rank == 1


@pytest.mark.slow  # starts a kernel
def test_submission_errors(client, emulator, tmp_path):
    no_file = client.kernel_push(write_kernel(tmp_path / "k", f"{USER}/client-nofile", "print('no output')",
                                              competition_sources=[COMP]))
    client.wait_kernel(no_file.ref, no_file.version, timeout=30, poll=0.1)
    ref = client.submit_code(COMP, no_file.ref, no_file.version, "submission.csv", "no file")
    with pytest.raises(SubmissionError, match="Submission CSV Not Found"):
        client.wait_submission(ref, timeout=30, poll=0.1)
    admin(emulator, "faults", {"kind": "submission_error", "message": "Scoring service unavailable", "times": 1})
    ref = client.submit_code(COMP, no_file.ref, no_file.version, "submission.csv", "injected")
    with pytest.raises(SubmissionError, match="Scoring service unavailable"):
        client.wait_submission(ref, timeout=30, poll=0.1)
    errors = [s for s in client.submissions(COMP) if s.status == "ERROR"]
    assert len(errors) >= 2 and all(s.error for s in errors)
    admin(emulator, "faults", {"kind": "daily_limit"})
    assert client.submission_limits(COMP).num_allowed_now == 0
    with pytest.raises(DailyLimitError):
        client.submit_code(COMP, no_file.ref, no_file.version, "submission.csv", "over the limit")


def test_log_text_joins_kaggle_stream_entries():
    raw = json.dumps([{"stream_name": "stdout", "time": 0.1, "data": "a\n"},
                      {"stream_name": "stderr", "time": 0.2, "data": "b\n"}])
    assert log_text(raw) == "a\nb\n"
    assert log_text("plain") == "plain"


def test_sandbox_environment_does_not_leak(client):
    import os

    limits = client.submission_limits(COMP)  # what this module's earlier tests submitted today, all of it
    assert limits.num_today == len(client.submissions(COMP))
    assert limits.num_allowed_now == max(0, DEFAULTS["daily_limit"] - limits.num_today)
    for name in ("HTTP_PROXY", "http_proxy", "KAGGLE_API_ENVIRONMENT", "KAGGLE_API_TOKEN"):
        assert name not in os.environ  # set only while the official client runs (pip, kernels never see it)


@pytest.mark.parametrize("lost", [{}, {"status": 503}], ids=["dropped", "5xx"])
@pytest.mark.slow  # starts a kernel
def test_lost_answers_never_create_twice(client, emulator, tmp_path, lost):
    """The server performs each creating call, then the answer is lost (connection closed, or a 5xx): the kit looks
    up what the server did, so exactly one submission, one kernel version and one dataset version result."""
    from emulator_tools import lose_answer

    state = emulator.server.state
    slug = "lost-" + ("drop" if not lost else "5xx")
    lose_answer(emulator.url, "CreateDataset", **lost)
    first = push_dataset(client, adapter_dir(tmp_path / "a"), f"{slug}-data", kind="adapter", poll=0.05)
    lose_answer(emulator.url, "CreateDatasetVersion", **lost)
    (tmp_path / "a" / "adapter_model.safetensors").write_bytes(b"v2")
    second = push_dataset(client, tmp_path / "a", f"{slug}-data", kind="adapter", poll=0.05)
    assert [v["number"] for v in state.dataset(first.ref)["versions"]] == [1, 2]
    assert (first.version, second.version) == (1, 2)

    folder = write_kernel(tmp_path / "k", f"{USER}/{slug}-kernel", ANSWER_SCRIPT, competition_sources=[COMP])
    lose_answer(emulator.url, "SaveKernel", **lost)
    push = client.kernel_push(folder)
    assert push.version == 1 and len(state.data["kernels"][push.ref]["versions"]) == 1
    client.wait_kernel(push.ref, push.version, timeout=30, poll=0.1)

    before = len(state.data["submissions"])
    lose_answer(emulator.url, "CreateCodeSubmission", **lost)
    ref = client.submit_code(COMP, push.ref, push.version, "submission.csv", f"once {slug}")
    made = state.data["submissions"][before:]
    assert [s["ref"] for s in made] == [ref] and made[0]["description"] == f"once {slug}"
    assert admin(emulator, "faults")["faults"] == []  # every lost answer was served


def test_paged_listings_are_read_to_the_end(client, emulator, tmp_path):
    state = emulator.server.state
    with state.lock:  # two more of this account's submissions, whatever ran before
        for i in range(2):
            state.data["submissions"].append({
                "ref": state.next_ref(), "competition": COMP, "user": USER, "date": f"2026-01-0{i + 1}T00:00:00.000Z",
                "status": "COMPLETE", "description": f"paged {i}", "fileName": "submission.csv", "kernel": "x/y",
                "kernelVersion": 1, "errorDescription": "", "publicScore": "0.01000", "privateScore": "0.01000"})
    admin(emulator, "config", {"page_size": 1})
    try:
        board = client.leaderboard(COMP)
        assert len(board) >= 3 and [e.rank for e in board] == list(range(1, len(board) + 1))  # one row a page
        subs = client.submissions(COMP)
        mine = [s for s in state.data["submissions"] if s["user"] == USER]
        assert [s.ref for s in subs] == [s["ref"] for s in reversed(mine)] and len(subs) >= 2
    finally:
        admin(emulator, "config", {"page_size": 20})


def test_not_joined_and_rules_refusals_from_the_client(client, emulator):
    from emulator_tools import set_state

    from kit.errors import RulesNotAcceptedError

    set_state(emulator.url, participation="not_joined")
    try:
        limits = client.submission_limits(COMP)
        assert limits.not_joined and limits.num_allowed_now == 0  # not "daily limit reached"
        set_state(emulator.url, participation="rules_not_accepted")
        with pytest.raises(RulesNotAcceptedError, match=f"competitions/{COMP}/rules"):
            client.submissions(COMP)
    finally:
        set_state(emulator.url)
    assert not client.submission_limits(COMP).not_joined


def test_bad_input_is_one_line_before_anything_is_sent(client, emulator, tmp_path, capsys):
    """Malformed kernel-metadata.json, a retired or unknown accelerator, a license not on Kaggle's list: each
    refused with one line naming the file or setting, and the server never sees a request."""
    from kit.cli import run
    from kit.errors import ConfigError, InputError
    from kit.kaggle import kernel_metadata as km

    state = emulator.server.state
    kernels, datasets = dict(state.data["kernels"]), dict(state.data["datasets"])
    folder = write_kernel(tmp_path / "k", f"{USER}/client-bad-input", "print(1)")
    meta_path = folder / "kernel-metadata.json"
    meta = json.loads(meta_path.read_text())
    cases = [("{not json", "kernel-metadata.json: not valid JSON"),
             (json.dumps([meta]), "must hold a JSON object"),
             (json.dumps({**meta, "dataset_sources": "owner/data"}), "'dataset_sources' must be a list"),
             (json.dumps({**meta, "machine_shape": "NvidiaTeslaP100"}), "NvidiaTeslaP100 is retired"),
             (json.dumps({**meta, "machine_shape": "TpuV38"}), "TpuV38 is retired"),
             (json.dumps({**meta, "machine_shape": "NvidiaK80"}), "unknown accelerator 'NvidiaK80'")]
    for text, message in cases:
        meta_path.write_text(text)
        with pytest.raises(InputError, match=message) as info:
            client.kernel_push(folder)
        assert str(meta_path) in str(info.value) and "\n" not in str(info.value)
    assert "NvidiaTeslaT4" in info.value.hint  # the current list
    with pytest.raises(ConfigError, match="NvidiaTeslaP100 is retired"):
        km.machine_settings("NvidiaTeslaP100")
    for name, hint in (("MIT", "use one of: CC0-1.0"), ("Apache 2.0", "Kaggle spells it 'apache-2.0'")):
        with pytest.raises(ConfigError, match=f"{name!r} is not a license Kaggle accepts") as info:
            push_dataset(client, adapter_dir(tmp_path / "a"), "client-license", kind="adapter", license=name)
        assert hint in str(info.value)
    assert (state.data["kernels"], state.data["datasets"]) == (kernels, datasets)
    adapter = adapter_dir(tmp_path / "cli-adapter")
    assert run(["push-adapter", str(adapter), "--license", "GPL 3", "--sandbox"]) == ConfigError.exit_code
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--license: 'GPL 3' is not a license Kaggle accepts" in err, err


@pytest.mark.slow  # starts a kernel
def test_dataset_version_read_after_ready_and_pinned_source_mounted(client, emulator, tmp_path):
    """A new version becomes current only once processed: the push reports its number after READY, and a
    kernel pinning `owner/slug/N` in dataset_sources gets exactly version N."""
    admin(emulator, "config", {"ready_delay": 0.6})
    folder = adapter_dir(tmp_path / "a", b"version one")
    first = push_dataset(client, folder, "client-pinned", kind="adapter", poll=0.05, timeout=10)
    (folder / "adapter_model.safetensors").write_bytes(b"version two")
    second = push_dataset(client, folder, "client-pinned", kind="adapter", poll=0.05, timeout=10, wait=False)
    assert client.dataset_version(first.ref) == ("blobs_received", 1)  # v2 processing: v1 is still current
    assert client.wait_dataset(first.ref, timeout=10, poll=0.05) == "ready"
    assert (first.version, second.version, client.dataset_version(first.ref)[1]) == (1, 2, 2)
    script = ("import os\nfound = [os.path.join(d, f) for root in ('/kaggle/input', '../input') if os.path.isdir(root)"
              " for d, _, fs in os.walk(root, followlinks=True) for f in fs if f == 'adapter_model.safetensors']\n"
              "open('seen.txt', 'w').write(open(found[0]).read())\n")
    kernel = write_kernel(tmp_path / "k", f"{USER}/client-pinned-run", script,
                          dataset_sources=[f"{first.ref}/1"])
    push = client.kernel_push(kernel)
    client.wait_kernel(push.ref, push.version, timeout=30, poll=0.1)
    client.kernel_output(push.ref, push.version, tmp_path / "out")
    assert (tmp_path / "out" / "seen.txt").read_text() == "version one"
