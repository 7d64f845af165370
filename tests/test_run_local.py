"""`kit run-local`: the simulated input tree, path resolution, and a real papermill run of the notebook."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kit.assets import mini_competition_dir, sample_data_dir
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
def test_run_local_defaults_to_the_instruct_model_and_the_mini_competition(tmp_path, instruct_model):
    """A new user's first rehearsal: no model or data configured, readable predictions, a local score."""
    out = tmp_path / "rl"
    result = CliRunner().invoke(cli, ["run-local", "--template", "fewshot", "--rows", "3", "--max-new-tokens", "16",
                                      "--budget", "900", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "local score:" in result.output and "projected for 1400 rows" in result.output
    with open(out / "submission.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    expected = kernel.load_rows(mini_competition_dir(), limit=3)
    assert [r["id"] for r in rows] == [r["id"] for r in expected]
    report = json.loads((out / "timing_report.json").read_text())
    assert report["rows"] == 3 and report["rows_per_pass"] == [3] and not report["deadline_hit"]
    assert report["fallback_rows"] <= 1  # the real model's answers pass post-processing
    for row in rows:  # readable: printable sentences of words, the fewshot prime first
        text = row["rewrite_prompt"]
        assert text.isprintable() and "\ufffd" not in text and len(text.split()) >= 3
    assert sum(r["rewrite_prompt"].startswith("Improve this text by") for r in rows) >= 2
    config = json.loads((out / "run_config.json").read_text())
    assert config["params"]["template"] == "fewshot" and config["params"]["rows"] == 3
    assert Path(config["model"]) == instruct_model and Path(config["data_dir"]) == mini_competition_dir()
    executed = json.loads((out / "infer.ipynb").read_text())
    assert any("injected-parameters" in c["metadata"].get("tags", []) for c in executed["cells"])
    assert Path(config["params"]["input_dir"]).exists() is False  # the temp input tree is cleaned up
