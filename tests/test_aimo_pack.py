"""The AIMO3 pack (kit/packs/aimo/pack.py): its contract, edition settings, notebook, sandbox competition,
`kit score`, the kernel's time banking, and (slow) run-local with the embedded model and the rerun rehearsal."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from kit.errors import ConfigError, InputError
from kit.packs.aimo.competition import HIDDEN, EmulatedAimo, gateway_spec
from kit.packs.aimo.pack import PACK, wilson
from kit.packs.aimo.params import SolveParams
from kit.packs.aimo.settings import SLUG, AimoEdition
from kit.tables import read_rows, write_rows

AIMO2_TOML = """[competition]
slug = "ai-mathematical-olympiad-progress-prize-3"
[aimo]
answer_max = 999
per_call_seconds = 1800
module_prefix = "aimo_2"
gateway_class = "AIMO2Gateway"
server_class = "AIMO2InferenceServer"
[infer]
budget_seconds = 17000
"""


@pytest.fixture
def workspace() -> Path:
    """A kit.toml naming the AIMO3 pack in the test's working folder."""
    (Path.cwd() / "kit.toml").write_text(f'[competition]\nslug = "{SLUG}"\n', encoding="utf-8")
    return Path.cwd()


def test_the_pack_is_installed_and_keeps_the_contract(tmp_path):
    from kit.pack import get_pack
    from kit.testing import check_pack

    assert get_pack(SLUG) is PACK and PACK.submission.mechanism == "inference_server"
    check_pack(PACK, tmp_path)


def test_the_notebooks_parameters_cell_is_written_from_the_params_dataclass():
    """notebooks/aimo/solve.ipynb (hand-written, its parameters cell rewritten by `make notebooks`) declares exactly
    SolveParams' fields, in order; tests/test_notebook_params.py checks the cell's text for every pack."""
    from kit.notebooks import parameters

    assert PACK.kernel.notebook.parent.name == "aimo" and PACK.kernel.notebook.parent.parent.name == "notebooks"
    assert list(parameters(PACK.kernel.notebook)) == [f.name for f in dataclasses.fields(SolveParams)]


def test_aimo2_is_a_configuration_of_the_same_pack(workspace):
    from kit.config import load_config
    from kit.kernel.params import from_config

    (workspace / "kit.toml").write_text(AIMO2_TOML, encoding="utf-8")
    cfg = load_config()
    params = from_config(SolveParams, cfg)
    assert (params.answer_max, params.per_call_seconds, params.budget_seconds) == (999, 1800.0, 17000)
    assert (params.module_prefix, params.server_class) == ("aimo_2", "AIMO2InferenceServer")
    spec = gateway_spec(cfg.section("aimo"))
    assert (spec.gateway_class, spec.deadline_seconds, spec.module_prefix) == ("AIMO2Gateway", 1800.0, "aimo_2")
    defaults = from_config(SolveParams, load_config_default(workspace))
    assert (defaults.answer_max, defaults.budget_seconds, defaults.server_class) == (99999, 18000,
                                                                                    "AIMO3InferenceServer")


def load_config_default(workspace: Path):
    from kit.config import load_config

    (workspace / "kit.toml").write_text(f'[competition]\nslug = "{SLUG}"\n', encoding="utf-8")
    return load_config()


@pytest.mark.parametrize(("changes", "message"), [
    ({"answer_max": 100000}, "answer range 0..100000"),
    ({"private_reruns": 3}, "private_reruns is 3"),
    ({"server_class": "AIMO 3"}, "server_class 'AIMO 3' is not a Python identifier"),
])
def test_an_impossible_edition_is_refused_in_one_line(changes, message):
    with pytest.raises(ConfigError, match=message):
        AimoEdition(**changes)


def test_bad_kernel_parameters_are_refused():
    with pytest.raises(ConfigError, match="unknown template 'best'"):
        SolveParams(template="best")
    with pytest.raises(ConfigError, match="answer range 5..4"):
        SolveParams(answer_min=5, answer_max=4)


def test_the_sandbox_mounts_the_download_and_the_hidden_set_under_aimo3_names(tmp_path):
    view = EmulatedAimo()
    public = view.mount(tmp_path / "public", hidden=False)
    hidden = view.mount(tmp_path / "hidden", hidden=True)
    assert len(read_rows(public / "test.csv")) == 3 and (public / "reference.csv").is_file()
    rows = read_rows(hidden / "test.csv")
    assert len(rows) == 100 and set(rows[0]) == {"id", "problem"}  # no answers in the kernel's folder
    server = (hidden / "kaggle_evaluation" / "aimo_3_inference_server.py").read_text()
    assert "class AIMO3InferenceServer(InferenceServer)" in server
    gateway = (hidden / "kaggle_evaluation" / "aimo_3_gateway.py").read_text()
    assert "class AIMO3Gateway(SpecGateway)" in gateway and "predict_columns=('id', 'problem')" in gateway


def test_the_sandbox_scores_public_and_private_parts_separately(tmp_path):
    public, private = read_rows(HIDDEN / "public.csv"), read_rows(HIDDEN / "private.csv")
    sub = tmp_path / "submission.csv"  # public all right, private all wrong
    write_rows(sub, [{"id": r["id"], "answer": r["answer"]} for r in public]
               + [{"id": r["id"], "answer": str(int(r["answer"]) + 1)} for r in private], ["id", "answer"])
    assert EmulatedAimo().score(sub) == {"public": 1.0, "private": 0.0}


def test_local_score_is_accuracy_with_a_wilson_interval_over_the_submissions_ids(tmp_path):
    mini = PACK.mini_competition()
    labels = read_rows(mini / "test_labels.csv")
    sub = tmp_path / "submission.csv"
    write_rows(sub, [{"id": r["id"], "answer": r["answer"] if i < 2 else "0"} for i, r in enumerate(labels[:4])],
               ["id", "answer"])
    result = PACK.score(sub, mini / "test_labels.csv")
    assert (result["mean"], result["n"], result["correct"]) == (0.5, 4, 2)
    assert (result["ci_low"], result["ci_high"]) == pytest.approx(wilson(2, 4))
    assert 0 < result["ci_low"] < 0.5 < result["ci_high"] < 1
    assert PACK.check_data(mini) == 10


def test_kit_score_reads_parquet_and_csv_and_scores_two_reruns(workspace, tmp_path, capsys):
    import pandas as pd

    from kit.cli import run

    answers = HIDDEN / "public.csv"
    rows = read_rows(answers)
    right = pd.DataFrame({"id": [r["id"] for r in rows], "answer": [int(r["answer"]) for r in rows]})
    right.to_parquet(tmp_path / "a.parquet", index=False)
    half = right.assign(answer=[a if i % 2 else a + 1 for i, a in enumerate(right["answer"])])
    half.to_csv(tmp_path / "b.csv", index=False)
    assert run(["score", str(tmp_path / "a.parquet"), str(answers), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["score"] == 1.0
    assert run(["score", str(tmp_path / "b.csv"), str(answers)]) == 0
    assert "accuracy: 0.5000 (25 of 50)" in capsys.readouterr().out
    assert run(["score", str(tmp_path / "a.parquet"), str(answers), "--rerun", str(tmp_path / "b.csv")]) == 0
    assert "penalized accuracy: 0.7500" in capsys.readouterr().out
    right.head(3).to_csv(tmp_path / "short.csv", index=False)
    assert run(["score", str(tmp_path / "short.csv"), str(answers)]) == InputError.exit_code
    err = capsys.readouterr().err
    assert "short.csv: 47 id(s) missing" in err and len(err.strip().splitlines()) == 1


class Scripted:
    """A stand-in model whose every attempt boxes `answer` after `seconds`."""

    def __init__(self, answer: int, seconds: float = 0.0) -> None:
        self.answer, self.seconds, self.calls = answer, seconds, 0

    def prompt(self, problem: str, tools: bool = False) -> str:
        return problem

    def sample(self, prompts, *, n, seed, stop, greedy):
        import time

        self.calls += 1
        time.sleep(self.seconds)
        return [[f"\\boxed{{{self.answer}}}"] * (1 if len(prompts) > 1 else n) for _ in prompts]


def _predict(params: SolveParams, model: Scripted, budget_seconds: float, report: Path):
    """The kernel's predict around a stand-in model, as build_predict makes it (time banking included)."""
    import time

    from kit.kernel.serving import CallBudget, serve_predict
    from kit.packs.aimo import kernel

    log: list = []
    solve = kernel.make_solve(params, lambda: model, lambda: None, log)
    budget = CallBudget(budget_seconds=budget_seconds, expected_rows=params.problems, margin_seconds=0.0)
    return serve_predict(solve, row_id_column="id", target_column="answer", fallback=0, budget=budget,
                         started_at=time.time(), report_path=report), log


def test_the_kernel_answers_each_problem_and_reports_its_calls(tmp_path):
    import polars as pl

    params = SolveParams(template="vote", attempts=6, wave=2, agree=3, problems=2)
    model = Scripted(17)
    predict, log = _predict(params, model, 60.0, tmp_path / "report.json")
    frame = predict(pl.Series("id", ["p1"]), pl.Series("problem", ["x"]))
    assert frame.to_dicts() == [{"id": "p1", "answer": 17}]
    assert model.calls == 2 and log[0]["stopped_early"] and log[0]["answers"] == [17, 17, 17, 17]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["rows"] == 1 and report["calls"][0]["budget_seconds"] == pytest.approx(30.0, abs=0.5)


def test_time_banking_stops_attempts_and_returns_the_answer_so_far(tmp_path):
    import polars as pl

    params = SolveParams(template="vote", attempts=8, wave=1, agree=8, problems=2)
    model = Scripted(5, seconds=0.3)
    predict, log = _predict(params, model, 1.2, tmp_path / "report.json")  # 0.6 s for the first problem
    frame = predict(pl.Series("id", ["p1"]), pl.Series("problem", ["x"]))
    assert frame["answer"].to_list() == [5]  # the leader so far, not the fallback
    assert log[0]["out_of_time"] and 1 <= len(log[0]["answers"]) < 8


@pytest.mark.slow
@pytest.mark.long  # two kernel runs on the embedded model, about 40 s: the acceptance test in test_aimo_submit makes
# the same run-local chain (solve notebook, the model in the kernel, the rehearsed re-run) inside `make test`
def test_run_local_greedy_on_reference_problems_with_the_embedded_model(workspace, instruct_model, tmp_path):
    """The real chain: the solve notebook under papermill, the embedded model loaded in the kernel, the local
    gateway's run and the scoring re-run rehearsed with the gateway beside the served notebook; recorded."""
    from kit.chain.run_local import describe, run_local
    from kit.config import load_config

    (workspace / "kit.toml").write_text(f'[competition]\nslug = "{SLUG}"\n[infer]\ntemplate = "greedy"\n'
                                        "max_new_tokens = 8\ncpu_threads = 1\n", encoding="utf-8")
    data = tmp_path / "three"  # three reference problems: the save-version run and the rerun both answer them
    data.mkdir()
    mini = PACK.mini_competition()
    for name in ("test.csv", "test_labels.csv"):
        rows = read_rows(mini / name)[:3]
        write_rows(data / name, rows, list(rows[0]))
    result = run_local(load_config(), data=data, out=tmp_path / "run", gateway_startup_limit=120)
    assert result.rerun["category"] is None, result.rerun
    assert result.score["n"] == 3 and 0.0 <= result.score["mean"] <= 1.0
    assert len(result.rerun["calls"]) == 3
    assert result.experiment_id is not None
    assert "scoring re-run rehearsed (the gateway beside the served notebook): passed" in describe(result)
    report = json.loads((tmp_path / "run" / "timing_report.json").read_text())
    assert report["rows"] == 3 and all(c["seconds"] > 0 for c in report["calls"])


def test_demo_config_makes_a_short_greedy_run(workspace):
    cfg = PACK.demo_config(load_config_default(workspace), "")
    assert cfg.infer.template == "greedy" and cfg.infer.max_new_tokens == 32
    assert cfg.section("aimo").sandbox_problems == 2 and dataclasses.is_dataclass(cfg.section("aimo"))


def test_the_kernels_budget_follows_the_edition():
    """AIMO2's 30-minute per-call deadline (first call exempt) reaches the kernel's time banking; nothing loads."""
    from kit.packs.aimo import kernel

    params = SolveParams(per_call_seconds=1800.0, budget_seconds=32400, problems=50, answer_max=999)
    budget = kernel.build_predict(params, None, started_at=0.0).log.budget
    assert (budget.per_call_seconds, budget.budget_seconds, budget.expected_rows) == (1800.0, 32400, 50)
    assert budget.call_limit(0) is None and budget.call_limit(1) == pytest.approx(1795.0)


def test_tool_output_from_the_real_pool_is_what_the_model_sees():
    """PoolTools runs a block in the hostile-safe pool; a session keeps the earlier block's definitions."""
    from kit.packs.aimo.kernel import PoolTools

    tools = PoolTools(10.0)
    try:
        session = tools()
        assert session.run("x = 6 * 7\nprint(x)").strip() == "42"
        assert session.run("print(x + 1)").strip() == "43"
        assert "ZeroDivisionError" in tools().run("print(1 / 0)")  # a fresh attempt: its own session
    finally:
        tools.pool.close()


def test_the_kernels_modules_import_no_torch_grpc_or_polars():
    """The notebook imports these before the first problem: the model (torch) loads on the first call only."""
    import subprocess
    import sys

    code = ("import sys, kit.packs.aimo.kernel, kit.packs.aimo.solvers, kit.packs.aimo.pack, kit.packs.aimo.params; "
            "print(sorted(m for m in ('torch', 'grpc', 'polars', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
