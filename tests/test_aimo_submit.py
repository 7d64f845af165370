"""AIMO3 submissions in the sandbox: the scoring re-run served through the gateway, the private part run a second
time and scored as penalized accuracy, the `hidden_rows` rehearsal knob; and (slow) the acceptance path a new user
takes (init, run-local --template tir-vote, build-submission, submit --sandbox) and `kit demo` through the CLI.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from emulator_tools import admin, write_kernel

from kit.config import CompetitionConfig, KitConfig
from kit.kaggle.client import KaggleClient
from kit.kaggle.emulator import start_in_thread
from kit.kaggle.isolation import isolation_problem
from kit.packs.aimo.competition import HIDDEN, EmulatedAimo, hidden_rows
from kit.packs.aimo.settings import SLUG, AimoEdition
from kit.tables import read_rows, write_rows

USER = "sandbox-user"
NAMESPACES = pytest.mark.skipif(bool(isolation_problem()), reason=f"no namespaces here: {isolation_problem()}")
STARTUP_LIMIT = 60  # seconds the sandbox's gateway waits for the served notebook on a busy 2-core machine

# A hand-written AIMO3 starter (no kit import) that knows the answers the test writes into it: right on every
# problem of a run that serves public problems, and on the second, private-only run right on the ids in
# RIGHT_AGAIN only. The emulator cannot tell it from a model; the scores it should get follow from the answers.
FAKE = """
import os
import sys

import polars as pl

COMPETITION = "/kaggle/input/competitions/ai-mathematical-olympiad-progress-prize-3"
sys.path.append(COMPETITION)
import kaggle_evaluation.aimo_3_inference_server

ANSWERS = ANSWERS_HERE
RIGHT_AGAIN = RIGHT_AGAIN_HERE
PUBLIC = PUBLIC_HERE
SERVED = set(pl.read_csv(os.path.join(COMPETITION, "test.csv"))["id"].to_list())
SECOND_RUN = bool(os.getenv("KAGGLE_IS_COMPETITION_RERUN")) and not SERVED & PUBLIC


def predict(id_: pl.Series, problem: pl.Series) -> pl.DataFrame:
    key = id_.item()
    right = ANSWERS.get(key, 0)
    answer = right if not SECOND_RUN or key in RIGHT_AGAIN else right + 1
    return pl.DataFrame({"id": id_, "answer": answer})


server = kaggle_evaluation.aimo_3_inference_server.AIMO3InferenceServer(predict)
if os.getenv("KAGGLE_IS_COMPETITION_RERUN"):
    server.serve()
else:
    server.run_local_gateway((os.path.join(COMPETITION, "test.csv"),))
"""


def fake_notebook(right_again: set[str]) -> str:
    """The starter above with the hidden answers and the private ids its second run still answers right."""
    answers = {r["id"]: int(r["answer"]) for r in hidden_rows()}
    public = {r["id"] for r in read_rows(HIDDEN / "public.csv")}
    return (FAKE.replace("ANSWERS_HERE", repr(answers)).replace("RIGHT_AGAIN_HERE", repr(sorted(right_again)))
            .replace("PUBLIC_HERE", repr(public)))


# ---------------------------------------------------------------------------- the view, without kernels


def test_the_private_part_is_scored_as_penalized_accuracy_over_two_runs(tmp_path):
    """1 when both runs are right, 0.5 when one is, 0 when neither; public from the first run alone."""
    view = EmulatedAimo()
    assert view.private_reruns == 2 and EmulatedAimo(AimoEdition(private_reruns=1)).private_reruns == 1
    public, private = read_rows(HIDDEN / "public.csv"), read_rows(HIDDEN / "private.csv")
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    write_rows(first, [{"id": r["id"], "answer": r["answer"]} for r in public + private[:40]]
               + [{"id": r["id"], "answer": int(r["answer"]) + 1} for r in private[40:]], ["id", "answer"])
    # the second run: right on the first 20 private problems and on the last 10 (which the first run missed)
    write_rows(second, [{"id": r["id"], "answer": r["answer"]} for r in private[:20] + private[40:]]
               + [{"id": r["id"], "answer": int(r["answer"]) + 1} for r in private[20:40]], ["id", "answer"])
    scores = view.score(first, rerun=second)
    assert scores["public"] == 1.0
    assert scores["private"] == pytest.approx((20 * 1.0 + 20 * 0.5 + 10 * 0.5) / 50)
    assert view.score(first) == {"public": 1.0, "private": 0.8}  # one run: that run's accuracy


def test_hidden_rows_serve_the_first_problems_of_each_part_and_score_over_them(tmp_path):
    view = EmulatedAimo()
    served = read_rows(view.mount(tmp_path / "all", hidden=True, rows=3) / "test.csv")
    public, private = read_rows(HIDDEN / "public.csv"), read_rows(HIDDEN / "private.csv")
    assert [r["id"] for r in served] == [r["id"] for r in public[:3] + private[:3]]
    again = read_rows(view.mount(tmp_path / "private", hidden=True, part="private", rows=3) / "test.csv")
    assert [r["id"] for r in again] == [r["id"] for r in private[:3]] and set(again[0]) == {"id", "problem"}
    sub = tmp_path / "sub.csv"
    write_rows(sub, [{"id": r["id"], "answer": r["answer"]} for r in public[:3] + private[:2]]
               + [{"id": private[2]["id"], "answer": 1 + int(private[2]["answer"])}], ["id", "answer"])
    assert view.score(sub, rows=3) == pytest.approx({"public": 1.0, "private": 2 / 3})


def test_the_emulator_gives_rows_only_to_views_that_take_them():
    from emulator_tools import SimplePack

    from kit.kaggle.emulator.competitions import hidden_sizing, private_reruns

    assert hidden_sizing(EmulatedAimo(), 4) == {"rows": 4} and hidden_sizing(EmulatedAimo(), 0) == {}
    assert hidden_sizing(SimplePack(), 4) == {}  # serves its whole hidden set
    assert private_reruns(SimplePack()) == 1 and private_reruns(EmulatedAimo()) == 2


# ---------------------------------------------------------------------------- the emulator's two re-runs


@pytest.fixture(scope="module")
def aimo_emulator(tmp_path_factory):
    running = start_in_thread(tmp_path_factory.mktemp("aimo-state"), pack=EmulatedAimo(), ready_delay=0.1)
    admin(running.url, "config", {"gateway_startup_limit": STARTUP_LIMIT, "daily_limit": 50, "hidden_rows": 4})
    yield running
    running.stop()


def _push_and_wait(client: KaggleClient, folder: Path, ref: str) -> None:
    """Push the kernel and wait for its save-version run to complete."""
    client.kernel_push(folder)
    deadline = time.monotonic() + 180
    while (status := client.kernel_status(ref, None))[0] not in ("COMPLETE", "ERROR"):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert status[0] == "COMPLETE", status


@pytest.mark.slow
@NAMESPACES
def test_the_sandbox_reruns_the_private_part_twice_through_the_gateway(aimo_emulator, tmp_path):
    """A deterministic fake notebook, submitted: the first re-run serves 4 public and 4 private problems through
    the gateway, the second the 4 private ones again from a fresh folder; the private score is penalized accuracy
    (2 right twice, 2 right once: 0.75)."""
    private = [r["id"] for r in read_rows(HIDDEN / "private.csv")[:4]]
    client = KaggleClient(KitConfig(competition=CompetitionConfig(slug=SLUG)), sandbox=True,
                          endpoint_url=aimo_emulator.url, progress=False)
    ref = f"{USER}/fake-aimo"
    folder = write_kernel(tmp_path / "kernel", ref, fake_notebook(set(private[:2])), kernel_type="notebook",
                          competition_sources=[SLUG])
    _push_and_wait(client, folder, ref)
    version = aimo_emulator.server.state.kernel_version(ref, None)
    sub_ref = client.submit_code(SLUG, ref, version["number"], "submission.parquet", "fake")
    sub = client.wait_submission(sub_ref, timeout=300, poll=0.5)
    assert (sub.public_score, sub.private_score) == (1.0, 0.75)
    root = aimo_emulator.server.state.root / "submissions" / str(sub_ref)
    calls = [json.loads(line) for line in (root / "run-gateway" / "gateway_calls.jsonl").read_text().splitlines()]
    again = [json.loads(line) for line in
             (root / "private-rerun-gateway" / "gateway_calls.jsonl").read_text().splitlines()]
    assert len(calls) == 8 and len(again) == 4
    for folder_name in ("run-gateway", "private-rerun-gateway"):
        assert json.loads((root / folder_name / "result.json").read_text())["Succeeded"] is True
    served = read_rows(root / "private-rerun-competition-ai-mathematical-olympiad-progress-prize-3" / "test.csv")
    assert sorted(r["id"] for r in served) == sorted(private)


# ---------------------------------------------------------------------------- a new user's path, and the demo

# A tiny budget that keeps the recipe's shape (sampled tool-integrated attempts, voted; a code round each) while
# each problem takes seconds on a CPU; one problem of each hidden part in the sandbox (the rehearsal knob).
TINY = {"max_new_tokens": "24", "attempts": "2", "wave": "2", "agree": "2", "tool_rounds": "1", "cpu_threads": "1",
        "sandbox_problems": "1"}


def _tiny_workspace(folder: Path) -> None:
    """kit.toml as `kit init` wrote it, with TINY's values in place of the defaults."""
    import re

    path = folder / "kit.toml"
    text = path.read_text(encoding="utf-8")
    for key, value in TINY.items():
        text, found = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert found == 1, key
    path.write_text(text, encoding="utf-8")


def _one_reference_problem(folder: Path) -> Path:
    from kit.packs.aimo.pack import PACK

    folder.mkdir()
    for name in ("test.csv", "test_labels.csv"):
        rows = read_rows(PACK.mini_competition() / name)[:1]
        write_rows(folder / name, rows, list(rows[0]))
    return folder


@pytest.mark.slow
@NAMESPACES
def test_init_run_local_tir_vote_build_and_submit_reach_public_and_private_scores(tmp_path, monkeypatch,
                                                                                   instruct_model, capsys):
    """Acceptance, as a new user types it: init, run-local --template tir-vote (on one reference problem), the
    wheels, build-submission and submit in the sandbox; the submission is scored on both hidden parts, the private
    one from two runs, and history shows both scores."""
    from kit.chain.history import history
    from kit.cli import run
    from kit.kaggle.sandbox import sandbox_dir, stop_emulator

    work = tmp_path / "work"
    monkeypatch.chdir(work)
    assert run(["init", "--competition", SLUG]) == 0
    _tiny_workspace(work)
    try:
        assert run(["run-local", "--template", "tir-vote", "--data", str(_one_reference_problem(tmp_path / "one")),
                    "--out", str(tmp_path / "run")]) == 0
        assert run(["wheels", "--kit-only", "--push", "--sandbox"]) == 0
        assert run(["build-submission", "--template", "tir-vote", "--sandbox"]) == 0
        assert run(["submit", "--sandbox", "--allow-dirty", "--timeout", "900"]) == 0
        [submitted] = history(SLUG, sandbox=True)
    finally:
        stop_emulator()
    printed = capsys.readouterr()
    assert "rehearsed (the gateway beside the served notebook): passed" in printed.out + printed.err
    assert (submitted["status"], submitted["template"]) == ("complete", "tir-vote")
    assert submitted["public_score"] in (0.0, 1.0) and submitted["private_score"] in (0.0, 0.5, 1.0)
    root = sandbox_dir() / "state" / "submissions" / str(submitted["submission_ref"])
    assert [len((root / name / "gateway_calls.jsonl").read_text().splitlines())
            for name in ("run-gateway", "private-rerun-gateway")] == [2, 1]


@pytest.mark.slow
@pytest.mark.long  # five kernel runs on the embedded model: about 75 s (the acceptance test above makes the same chain)
@NAMESPACES
def test_kit_demo_takes_aimo_through_run_local_submit_two_private_runs_and_history(tmp_path, monkeypatch,
                                                                                    instruct_model, capsys):
    """`kit demo --competition ...` from a folder without kit.toml: no training (the pack trains nothing), the
    run-local rehearsal, build, submit; the sandbox's re-runs go through the gateway with the private part twice;
    the ledger holds the public and private scores."""
    from kit.chain.history import history
    from kit.cli import run
    from kit.kaggle.sandbox import sandbox_dir

    monkeypatch.chdir(tmp_path / "work")
    started = time.monotonic()
    assert run(["demo", "--competition", SLUG, "--dir", str(tmp_path / "demo")]) == 0
    seconds = time.monotonic() - started
    printed = capsys.readouterr()
    said = printed.out + printed.err
    assert "the ai-mathematical-olympiad-progress-prize-3 pack trains none" in said and "LoRA" not in said
    assert "rehearsed scoring re-run: passed" in said and "kernel output submission.parquet: 3 rows, valid" in said
    [recorded] = history(SLUG, sandbox=True)
    assert (recorded["status"], recorded["template"]) == ("complete", "greedy")
    assert recorded["public_score"] is not None and recorded["private_score"] is not None
    root = sandbox_dir() / "state" / "submissions" / str(recorded["submission_ref"])
    assert [len((root / name / "gateway_calls.jsonl").read_text().splitlines())
            for name in ("run-gateway", "private-rerun-gateway")] == [4, 2]
    assert "demo finished in" in printed.out and seconds > 0  # the wall time is printed for people
    assert "private from 2 runs of the private part" in printed.out
