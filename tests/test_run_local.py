"""`kit run-local`: the simulated input tree, path resolution, and a real papermill run of the notebook."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kit.assets import sample_data_dir
from kit.cli import cli
from kit.errors import InputError
from kit.notebooks import parameters, template_path
from kit.recovery import kernel
from kit.runlocal import _layout


def test_layout_hides_labels_and_both_competition_paths_resolve(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    input_dir = _layout(tmp_path / "tree", sample_data_dir(), "llm-prompt-recovery", model, None, None)
    comp = input_dir / "competitions" / "llm-prompt-recovery"
    assert (comp / "test.csv").is_file() and not (comp / "test_labels.csv").exists()
    assert kernel.competition_dir(input_dir, "llm-prompt-recovery") == comp
    flat = tmp_path / "flat"
    (flat / "llm-prompt-recovery").mkdir(parents=True)
    (flat / "llm-prompt-recovery" / "test.csv").write_text("id,original_text,rewritten_text\n-1,a,b\n")
    assert kernel.competition_dir(flat, "llm-prompt-recovery") == flat / "llm-prompt-recovery"
    with pytest.raises(InputError, match="looked in"):
        kernel.competition_dir(tmp_path, "other")
    assert kernel.resolve_path("kit-model", input_dir) == input_dir / "kit-model"
    assert kernel.resolve_path(str(model), input_dir) == model and kernel.resolve_path("", input_dir) is None


def test_notebook_exposes_the_kernel_parameters():
    names = set(parameters(template_path("infer")))
    assert {"template", "input_dir", "competition", "model_dir", "adapter_dir", "wheels_dir", "budget_seconds",
            "margin_seconds", "batch_size", "max_new_tokens", "max_field_tokens", "mean_prompt", "rows",
            "slow_generation_s", "load_in_4bit"} <= names


@pytest.mark.slow
def test_run_local_executes_the_notebook_and_scores(tmp_path):
    out = tmp_path / "rl"
    result = CliRunner().invoke(cli, ["run-local", "--template", "fewshot", "--rows", "3", "--max-new-tokens", "6",
                                      "--budget", "900", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "local score:" in result.output and "projected for 1400 rows" in result.output
    assert "predict: 100%" in result.output and "3/3" in result.output  # the kernel's progress, streamed
    assert "IPKernelApp" not in result.output and (out / "infer.log").is_file()  # chatter goes to a log
    with open(out / "submission.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    expected = kernel.load_rows(sample_data_dir(), limit=3)
    assert [r["id"] for r in rows] == [r["id"] for r in expected]
    assert all(r["rewrite_prompt"].strip() for r in rows)
    report = json.loads((out / "timing_report.json").read_text())
    assert report["rows"] == 3 and report["rows_per_pass"] == [3] and not report["deadline_hit"]
    config = json.loads((out / "run_config.json").read_text())
    assert config["params"]["template"] == "fewshot" and config["params"]["rows"] == 3
    executed = json.loads((out / "infer.ipynb").read_text())
    assert any("injected-parameters" in c["metadata"].get("tags", []) for c in executed["cells"])
    assert Path(config["params"]["input_dir"]).exists() is False  # the temp input tree is cleaned up


@pytest.mark.slow
def test_local_runs_are_recorded_and_linked_to_the_submission_of_the_same_content(tmp_path, capsys):
    """Two run-local runs, then `kit history --local --json`; a sandbox submission of the same kernel content
    links to its run, and --plot draws that point. (`mean` loads no model: the link is what is under test.)"""
    from test_submit import FakeClient

    from kit.build import build_submission
    from kit.cli import run
    from kit.config import KitConfig
    from kit.history import history, linked_points
    from kit.submit import submit

    for _ in range(2):
        assert run(["run-local", "--template", "mean", "--rows", "4", "--json"]) == 0
    runs = [json.loads(chunk) for chunk in capsys.readouterr().out.replace("}\n{", "}\n\x00{").split("\x00")]
    assert runs[0]["out_dir"] != runs[1]["out_dir"]  # a folder per run, nothing overwritten
    assert all(Path(r["out_dir"]).parent == Path("run-local").resolve() for r in runs)
    assert run(["history", "--local", "--json"]) == 0
    local = json.loads(capsys.readouterr().out)
    assert [o["id"] for o in local] == [runs[1]["experiment_id"], runs[0]["experiment_id"]]
    for obj, res in zip(local, reversed(runs), strict=True):
        assert obj["type"] == "local" and obj["kind"] == "run-local" and obj["template"] == "mean"
        assert obj["score"] == res["score"]["mean"] and obj["score_ci_low"] <= obj["score"] <= obj["score_ci_high"]
        assert obj["rows"] == 4 and obj["out_dir"] == res["out_dir"] and obj["content_key"] == res["content_key"]
        assert obj["data_hash"] and obj["model_hash"] and obj["embedder"]
    built = build_submission(KitConfig(), template="mean", out=tmp_path / "kernel", sandbox=True)
    assert built["content_key"] == runs[1]["content_key"] and built["local_experiment"] == runs[1]["experiment_id"]
    row = submit(KitConfig(), tmp_path / "kernel", client=FakeClient(), sandbox=True, allow_dirty=True,
                 poll=(0.001, 0.002), say=lambda m: None)
    assert row["status"] == "complete"
    [sub] = history("llm-prompt-recovery", sandbox=True)
    assert sub["local_experiment"] == runs[1]["experiment_id"] and sub["local_score"] == runs[1]["score"]["mean"]
    assert history("llm-prompt-recovery", sandbox=False) == []  # sandbox rows never among the real ones
    assert linked_points([sub]) == [(sub["id"], sub["local_score"], sub["public_score"])]
    png = tmp_path / "h.png"
    assert run(["history", "--sandbox", "--plot", str(png)]) == 0
    said = capsys.readouterr()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "1 linked submission(s)" in said.err
    assert f"#{runs[1]['experiment_id']}" in said.out and "local experiments" in said.out
