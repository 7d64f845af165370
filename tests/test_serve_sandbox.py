"""Inference-server competitions in the sandbox (issue 18): a starter-style notebook pushed with the official CLI,
code-submitted, re-run with the gateway as a separate isolated process beside it, and scored; and each fault a
served notebook can have ends with the category Kaggle shows, on the submission, in one line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from emulator_tools import admin, write_kernel
from helpers import install_toy_pack, pr_config

from kit.errors import SubmissionError
from kit.kaggle.client import KaggleClient
from kit.kaggle.emulator import start_in_thread
from kit.kaggle.isolation import isolation_problem

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bool(isolation_problem()), reason=f"no namespaces here: {isolation_problem()}")]

TOY = Path(__file__).resolve().parent / "toy_pack"
USER = "sandbox-user"
COMP = "toy-serve"
KAGGLE_CLI = str(Path(sys.executable).with_name("kaggle"))
# Seconds the sandbox's gateway waits for the server (Kaggle: 900): enough for a kernel to reach serve() on a busy
# 2-core machine, and a short one for the notebook that never does.
STARTUP_LIMIT, SHORT_STARTUP_LIMIT = 30, 5


@pytest.fixture(scope="module")
def serve_emulator(tmp_path_factory):
    sys.path.insert(0, str(TOY))
    sys.modules.pop("toy_serve", None)
    import toy_serve

    running = start_in_thread(tmp_path_factory.mktemp("serve-state"), pack=toy_serve.EmulatedServe(),
                              ready_delay=0.1)
    admin(running.url, "config", {"gateway_startup_limit": STARTUP_LIMIT, "daily_limit": 50})
    yield running
    running.stop()
    sys.path.remove(str(TOY))
    sys.modules.pop("toy_serve", None)


STARTER = """
import os
import sys
import time

import polars as pl

COMPETITION = next(p for p in ("/kaggle/input/competitions/toy-serve", "/kaggle/input/toy-serve")
                   if os.path.isdir(p))
sys.path.append(COMPETITION)
import kaggle_evaluation.toy_serve_inference_server

RERUN = bool(os.getenv("KAGGLE_IS_COMPETITION_RERUN"))
CALLS = []


def predict(id_: pl.Series, question: pl.Series) -> pl.DataFrame:
    CALLS.append(id_.item())
    FAULT_IN_PREDICT
    return pl.DataFrame({"id": id_, "answer": len(question.item())})


FAULT_BEFORE_SERVER
inference_server = kaggle_evaluation.toy_serve_inference_server.ToyServeInferenceServer(SERVED)
if RERUN:
    inference_server.serve()
else:
    inference_server.run_local_gateway((os.path.join(COMPETITION, "test.csv"),))
"""

# Each fault shows only on the scoring re-run (the hidden rows, or the rerun branch), as faults that reach Kaggle
# do: the save-version run on the public rows completes, so the version can be submitted.
FAULTS = {
    "never started": ({"FAULT_BEFORE_SERVER": "if RERUN:\n    time.sleep(60)"}, "Inference Server Never Started"),
    "deadline on the second call": ({"FAULT_IN_PREDICT": "if RERUN and len(CALLS) == 2:\n        time.sleep(5)"},
                                    "Timeout"),
    "predict raises": ({"FAULT_IN_PREDICT": "if id_.item() == 'q09':\n        raise ValueError('no idea')"},
                       "Inference Server Raised an Exception"),
    "bare scalar": ({"FAULT_IN_PREDICT": "if RERUN:\n        return len(question.item())"},
                    "Submission Scoring Error"),
    "wrong row count": ({"FAULT_IN_PREDICT": "if id_.item() == 'q07':\n"
                                             "        return pl.DataFrame({'id': ['q07', 'q07'], 'answer': [1, 2]})"},
                        "Invalid Submission"),
    "no function named predict": ({"SERVED": "predict if not RERUN else answer",
                                   "FAULT_BEFORE_SERVER": "def answer(id_, question):\n"
                                                          "    return predict(id_, question)"},
                                  "Inference Server Missing Endpoint"),
}


def _starter(**parts: str) -> str:
    source = STARTER
    for key, default in (("FAULT_IN_PREDICT", "pass"), ("FAULT_BEFORE_SERVER", ""), ("SERVED", "predict")):
        source = source.replace(key, parts.get(key, default))
    return source


def _push_and_wait(client: KaggleClient, folder: Path, slug: str, env: dict[str, str] | None = None) -> None:
    """Push the kernel (with the official CLI when `env` is given) and wait for its save-version run."""
    import subprocess

    if env is not None:
        proc = subprocess.run([KAGGLE_CLI, "kernels", "push", "-p", str(folder)], env=env, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0 and "successfully pushed" in proc.stdout.lower(), proc.stdout + proc.stderr
    else:
        client.kernel_push(folder)
    deadline = time.monotonic() + 120
    while (status := client.kernel_status(f"{USER}/{slug}", None))[0] not in ("COMPLETE", "ERROR"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert status[0] == "COMPLETE", status


def test_a_starter_notebook_pushed_with_the_cli_is_rerun_with_its_gateway_and_scored(serve_emulator, tmp_path):
    """Acceptance: the hand-written starter (no kit import) is pushed with the official CLI; its save-version run
    writes submission.parquet through the local gateway; the code submission re-runs it blocked in serve() with
    the gateway as a separate isolated process dialling `inference_server`; the gateway's parquet is scored."""
    client = KaggleClient(pr_config(), sandbox=True, endpoint_url=serve_emulator.url, progress=False)
    folder = write_kernel(tmp_path / "kernel", f"{USER}/starter", "", kernel_type="notebook",
                          competition_sources=[COMP])
    nb = json.loads((folder / "kernel.ipynb").read_text())
    nb["cells"] = [nb["cells"][1]]  # no parameters cell: written by hand
    nb["cells"][0]["source"] = _starter()
    (folder / "kernel.ipynb").write_text(json.dumps(nb))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_PROXY", "no_proxy")}
    env.update(KAGGLE_API_ENVIRONMENT="LOCALHOST", HTTP_PROXY=serve_emulator.url, KAGGLE_USERNAME=USER,
               KAGGLE_KEY="sandbox-key", KAGGLE_CONFIG_DIR=str(tmp_path / "cli-config"))
    _push_and_wait(client, folder, "starter", env)
    version = serve_emulator.server.state.kernel_version(f"{USER}/starter", None)
    client.kernel_output(f"{USER}/starter", version["number"], tmp_path / "out")
    assert (tmp_path / "out" / "submission.parquet").is_file()  # the save-version run's local gateway wrote it
    sub_ref = client.submit_code(COMP, f"{USER}/starter", version["number"], "submission.parquet", "starter")
    sub = client.wait_submission(sub_ref, timeout=120, poll=0.2)
    assert (sub.public_score, sub.private_score) == (1.0, 1.0)
    run = serve_emulator.server.state.root / "submissions" / str(sub_ref)
    result = json.loads((run / "run-gateway" / "result.json").read_text())
    assert result["Succeeded"] is True
    log = (run / "gateway.log").read_text()
    assert "Traceback" not in log


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_of_a_served_notebook_gets_the_category_kaggle_shows(serve_emulator, tmp_path, fault):
    parts, category = FAULTS[fault]
    limit = SHORT_STARTUP_LIMIT if fault == "never started" else STARTUP_LIMIT
    admin(serve_emulator.url, "config", {"gateway_startup_limit": limit})
    client = KaggleClient(pr_config(), sandbox=True, endpoint_url=serve_emulator.url, progress=False)
    slug = "fault-" + fault.replace(" ", "-")
    folder = write_kernel(tmp_path / "kernel", f"{USER}/{slug}", _starter(**parts), competition_sources=[COMP])
    _push_and_wait(client, folder, slug)
    version = serve_emulator.server.state.kernel_version(f"{USER}/{slug}", None)
    sub_ref = client.submit_code(COMP, f"{USER}/{slug}", version["number"], "submission.parquet", fault)
    with pytest.raises(SubmissionError) as failed:
        client.wait_submission(sub_ref, timeout=120, poll=0.2)
    assert f"failed: {category}" in str(failed.value)
    sub = serve_emulator.server.state.submission(sub_ref)
    assert sub["errorDescription"] == category  # the category alone; the details stay in the run folder
    run = serve_emulator.server.state.root / "submissions" / str(sub_ref)
    assert (run / "run-gateway" / "result.json").is_file() and (run / "gateway.log").is_file()


@pytest.fixture
def toy_serve_pack(monkeypatch):
    """The toy-serve pack registered in this process, and a kit.toml naming it."""
    from kit import pack as registry

    monkeypatch.syspath_prepend(str(TOY))
    sys.modules.pop("toy_serve", None)
    import toy_serve

    registry.register(toy_serve.PACK)
    (Path.cwd() / "kit.toml").write_text('[competition]\nslug = "toy-serve"\n', encoding="utf-8")
    yield toy_serve
    registry._PACKS.pop("toy-serve", None)
    sys.modules.pop("toy_serve", None)


def test_run_local_rehearses_the_save_version_run_and_the_scoring_rerun(toy_serve_pack, tmp_path):
    """run-local on a served notebook: the save-version run (local gateway in the notebook), then the notebook as
    Kaggle's rerun runs it, blocked in serve() with the gateway beside it; the time to the first answer, each call's
    seconds and the projection come from the gateway; the gateway's file is what is scored."""
    from kit.chain.build import build_submission
    from kit.chain.run_local import describe, run_local
    from kit.config import load_config

    result = run_local(load_config(), out=tmp_path / "run", gateway_startup_limit=STARTUP_LIMIT)
    built = build_submission(load_config(), out=tmp_path / "kernel", sandbox=True)  # the same content: linked
    assert (built["local_experiment"], built["local_score"]) == (result.experiment_id, 1.0)
    rerun = result.rerun
    assert rerun["category"] is None and Path(rerun["submission"]).name == "submission.parquet"
    assert (tmp_path / "run" / "submission.parquet").is_file()  # the save-version run's own file is kept too
    assert len(rerun["calls"]) == 10 and rerun["first_answer_seconds"] > 0 and rerun["seconds_per_call"] < 1
    assert result.score["mean"] == 1.0 and result.score["n"] == 10
    text = describe(result)
    assert "scoring re-run rehearsed (the gateway beside the served notebook): passed" in text
    assert "first answer" in text and "10 calls" in text and "projected for 10 rows" in text
    assert json.loads((tmp_path / "run" / "rerun" / "gateway" / "result.json").read_text()) == {"Succeeded": True}


def test_run_local_names_the_category_of_a_failed_rerun_in_one_line(toy_serve_pack, tmp_path, monkeypatch):
    import dataclasses

    import nbformat

    from kit.chain.run_local import RerunFailed, run_local
    from kit.config import load_config

    notebook = nbformat.read(toy_serve_pack.HERE / "serve.ipynb", as_version=4)
    notebook.cells[3].source = notebook.cells[3].source.replace(
        '    answer = ', '    if os.getenv("KAGGLE_IS_COMPETITION_RERUN") and id_.item() == "q08":\n'
                        '        raise ValueError("not on the hidden rows")\n    answer = ')
    faulty = tmp_path / "faulty.ipynb"
    nbformat.write(notebook, faulty)
    monkeypatch.setattr(toy_serve_pack.PACK, "kernel", dataclasses.replace(toy_serve_pack.PACK.kernel,
                                                                           notebook=faulty))
    with pytest.raises(RerunFailed) as failed:
        run_local(load_config(), out=tmp_path / "run", gateway_startup_limit=STARTUP_LIMIT)
    assert "rehearsed scoring re-run failed: Inference Server Raised an Exception" in str(failed.value)
    assert failed.value.result.experiment_id is not None  # recorded all the same
    assert (tmp_path / "run" / "rerun" / "gateway.log").is_file()


@pytest.fixture
def toy_serve_installed(tmp_path, monkeypatch):
    """toy-serve registered under the `kit.packs` entry points, for this process and its children (the sandbox's
    background emulator among them), and a kit.toml naming it."""
    yield from install_toy_pack(tmp_path, monkeypatch, "toy_serve", "toy-serve")


def test_kit_demo_takes_a_served_pack_through_build_submit_and_history(toy_serve_installed, tmp_path, capsys):
    """`kit demo`, build-submission, submit and history need nothing new for an inference-server pack: the kit
    checks the save-version run's submission.parquet before it submits, the sandbox re-runs the kernel with the
    gateway beside it, and the ledger records the scores."""
    from kit.chain.history import history
    from kit.cli import run

    assert run(["demo", "--dir", str(tmp_path / "demo")]) == 0
    printed = capsys.readouterr()
    assert "kernel output submission.parquet: 3 rows, valid" in printed.out + printed.err
    [recorded] = history("toy-serve", sandbox=True)
    assert (recorded["status"], recorded["template"]) == ("complete", "length")
    assert (recorded["public_score"], recorded["private_score"]) == (1.0, 1.0)
