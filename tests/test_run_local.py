"""`kit run-local`: the simulated input tree, path resolution, and a real papermill run of the notebook."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from kit.assets import sample_data_dir
from kit.cli import cli
from kit.notebooks import parameters, template_path
from kit.recovery import kernel
from kit.runlocal import LOCAL_SLUGS, _attach


def test_attach_hides_labels_and_mounts_by_ref_in_either_layout(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for layout, comp_rel, model_rel in (
            ("2025", "competitions/llm-prompt-recovery", "models/sandbox-user/kit-base-model/transformers/default/1"),
            ("2024", "llm-prompt-recovery", "kit-base-model/transformers/default/1")):
        sources, mounts = _attach(tmp_path / layout, sample_data_dir(), "llm-prompt-recovery", "",
                                  {"model": model, "adapter": None, "wheels": wheels}, layout)
        assert sources == {"competition": "llm-prompt-recovery", "model": "sandbox-user/" + LOCAL_SLUGS["model"],
                           "wheels": "sandbox-user/kit-wheels"}
        assert mounts[model_rel] == model and comp_rel in mounts
        comp = mounts[comp_rel]
        assert (comp / "test.csv").is_file() and not (comp / "test_labels.csv").exists()


def test_notebook_exposes_the_kernel_parameters():
    names = set(parameters(template_path("infer")))
    assert {"template", "input_dir", "sources", "budget_seconds",
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
    log = (out / "kernel_log.txt").read_text()
    assert "Successfully installed kaggle-kit" in log  # the offline install ran in the rehearsal
    assert "/kaggle/input/datasets/sandbox-user/kit-wheels" in log
