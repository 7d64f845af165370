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
