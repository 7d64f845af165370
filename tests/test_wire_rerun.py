"""The scoring rerun rehearsed end to end: a starter notebook against a package written by write_package.

Each test runs the notebook in one process and the gateway in another, both with KAGGLE_IS_COMPETITION_RERUN=1,
the gateway dialling `inference_server` (mapped to 127.0.0.1), and reads the gateway's result.json, as Kaggle's
scoring does. Ports are free ones written into the competition's spec, so parallel runs never meet.
"""

from __future__ import annotations

import json
import subprocess
import sys

import polars as pl
import pytest
from wire_helpers import PROBLEMS, aimo3_spec, notebook_source, run_rerun, write_competition

pytestmark = pytest.mark.slow

GOOD_PREDICT = """
def predict(id_: pl.Series, problem: pl.Series) -> pl.DataFrame:
    log_call()
    return pl.DataFrame({'id': id_, 'answer': len(problem.item())})
"""


def _failed(rerun, error_type: int, name: str) -> None:
    assert rerun.result["Succeeded"] is False, rerun.result
    assert (rerun.result["ErrorType"], rerun.result["ErrorName"]) == (error_type, name), rerun.result
    assert not (rerun.gateway_dir / "submission.parquet").exists()


def test_a_good_notebook_scores_and_the_gateway_writes_the_submission(tmp_path):
    data = write_competition(tmp_path, aimo3_spec())
    rerun = run_rerun(tmp_path, data, notebook_source(data, GOOD_PREDICT))
    assert rerun.result == {"Succeeded": True}
    assert rerun.notebook_was_blocked  # serve() blocks for good on a rerun; the gateway decides the end
    submission = pl.read_parquet(rerun.gateway_dir / "submission.parquet")
    assert submission.columns == ["id", "answer"]
    assert dict(submission.iter_rows()) == {key: len(problem) for key, problem in PROBLEMS.items()}
    assert rerun.calls == len(PROBLEMS)
    assert not (rerun.notebook_dir / "submission.parquet").exists()  # the notebook's side writes nothing


def test_the_local_branch_runs_the_gateway_inside_the_notebook(tmp_path):
    data = write_competition(tmp_path, aimo3_spec())
    (tmp_path / "notebook.py").write_text(notebook_source(data, GOOD_PREDICT), encoding="utf-8")
    (tmp_path / "working").mkdir()
    env = {key: value for key, value in __import__("os").environ.items() if key != "KAGGLE_IS_COMPETITION_RERUN"}
    done = subprocess.run([sys.executable, str(tmp_path / "notebook.py")], cwd=tmp_path / "working", env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    submission = pl.read_parquet(tmp_path / "working" / "submission.parquet")
    assert sorted(submission["id"].to_list()) == sorted(PROBLEMS)
    assert not (tmp_path / "working" / "result.json").exists()  # result.json is a rerun-only file


def test_a_server_that_never_starts_is_reported_after_the_startup_limit(tmp_path):
    data = write_competition(tmp_path, aimo3_spec())
    notebook = notebook_source(data, GOOD_PREDICT, before_server="time.sleep(60)  # 'loading a model' too long")
    rerun = run_rerun(tmp_path, data, notebook, startup_limit=2)
    _failed(rerun, 1, "SERVER_NEVER_STARTED")
    assert rerun.calls == 0


def test_a_call_past_the_deadline_fails_but_the_first_call_is_exempt(tmp_path):
    data = write_competition(tmp_path, aimo3_spec(deadline_seconds=1))
    slow = """
    def predict(id_: pl.Series, problem: pl.Series) -> pl.DataFrame:
        log_call()
        # first call: past the 1 s deadline, but exempt; second call: far past it
        time.sleep(1.5 if len(open(CALLS).read().splitlines()) == 1 else 30)
        return pl.DataFrame({'id': id_, 'answer': 0})
    """
    rerun = run_rerun(tmp_path, data, notebook_source(data, slow))
    _failed(rerun, 7, "GRPC_DEADLINE_EXCEEDED")
    assert rerun.calls == 2


def test_an_exception_in_predict_reaches_the_result_with_its_message(tmp_path):
    data = write_competition(tmp_path, aimo3_spec())
    raising = """
    def predict(id_: pl.Series, problem: pl.Series) -> pl.DataFrame:
        log_call()
        raise ValueError('the solver ran out of ideas')
    """
    rerun = run_rerun(tmp_path, data, notebook_source(data, raising))
    _failed(rerun, 3, "SERVER_RAISED_EXCEPTION")
    assert "the solver ran out of ideas" in rerun.result["ErrorDetails"]
    assert rerun.calls == 1


def test_a_bare_integer_passes_every_call_and_fails_only_at_the_end(tmp_path):
    data = write_competition(tmp_path, aimo3_spec())
    bare = """
    def predict(id_: pl.Series, problem: pl.Series) -> int:
        log_call()
        return 42
    """
    rerun = run_rerun(tmp_path, data, notebook_source(data, bare))
    _failed(rerun, 5, "GATEWAY_RAISED_EXCEPTION")
    assert "target_column_name" in rerun.result["ErrorDetails"]
    assert rerun.calls == len(PROBLEMS)  # every problem was solved before the run failed


def test_the_wrong_row_count_is_an_invalid_submission(tmp_path):
    data = write_competition(tmp_path, aimo3_spec())
    doubled = """
    def predict(id_: pl.Series, problem: pl.Series) -> pl.DataFrame:
        log_call()
        return pl.DataFrame({'id': [id_.item()] * 2, 'answer': [1, 2]})
    """
    rerun = run_rerun(tmp_path, data, notebook_source(data, doubled))
    _failed(rerun, 6, "INVALID_SUBMISSION")
    assert rerun.result["ErrorDetails"] == "Invalid predictions: expected 1 rows but received 2"
    assert rerun.calls == 1


def test_a_notebook_without_a_function_named_predict_misses_the_endpoint(tmp_path):
    data = write_competition(tmp_path, aimo3_spec())
    misnamed = """
    def solve(id_: pl.Series, problem: pl.Series) -> pl.DataFrame:
        log_call()
        return pl.DataFrame({'id': id_, 'answer': 0})
    """
    rerun = run_rerun(tmp_path, data, notebook_source(data, misnamed))
    _failed(rerun, 4, "SERVER_MISSING_ENDPOINT")
    assert rerun.notebook_was_blocked and rerun.calls == 0
    assert json.loads((rerun.gateway_dir / "result.json").read_text())["ErrorDetails"] == (
        "Server did not register a listener for predict")
