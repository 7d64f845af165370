"""`kit run-local`: the simulated input tree, path resolution, and a real papermill run of the notebook."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import pr_config

from kit.chain.run_local import LOCAL_SLUGS, _attach, _refs
from kit.cli import cli
from kit.notebooks import parameters
from kit.pack import get_pack
from kit.packs.prompt_recovery import kernel
from kit.packs.prompt_recovery.samples import mini_competition_dir

pytestmark = pytest.mark.usefixtures("prompt_recovery_workspace")  # the tests run in a pack-1 workspace


def test_attach_hides_labels_and_mounts_by_ref_in_either_layout(chain_pack, tmp_path):
    """Generic mounting, on each toy pack: the competition folder without its labels, a model and the wheels by
    ref, under either Kaggle input layout."""
    slug = chain_pack.slug
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for layout, comp_rel, model_rel in (
            ("2025", f"competitions/{slug}", "models/sandbox-user/kit-base-model/transformers/default/1"),
            ("2024", slug, "kit-base-model/transformers/default/1")):
        folders = {"model": model, "adapter": None, "wheels": wheels}
        sources = _refs(chain_pack.config(username=""), folders)
        mounts = _attach(tmp_path / layout, chain_pack.pack.mini_competition(), slug, sources, folders, layout)
        assert sources == {"competition": slug, "model": "sandbox-user/" + LOCAL_SLUGS["model"],
                           "wheels": "sandbox-user/kit-wheels"}
        assert mounts[model_rel] == model and comp_rel in mounts
        comp = mounts[comp_rel]
        assert (comp / "test.csv").is_file() and not (comp / "test_labels.csv").exists()
        assert (chain_pack.pack.mini_competition() / "test_labels.csv").is_file()  # there, and left behind


def test_notebook_parameters_cell_is_the_pack_params_dataclass():
    """The kernel's parameters are defined once (the pack's dataclass): the notebook's generated cell declares exactly
    its fields, in order, with its defaults and help; a bad value fails when the dataclass is made."""
    import ast
    import dataclasses

    import nbformat

    from kit.errors import ConfigError
    from kit.kernel.params import cell_source, defaults, from_config

    spec = get_pack("llm-prompt-recovery").kernel
    declared = parameters(spec.notebook)
    fields = dataclasses.fields(spec.params)
    assert list(declared) == [f.name for f in fields]
    assert {k: ast.literal_eval(v) for k, v in declared.items()} == defaults(spec.params)
    cells = nbformat.read(str(spec.notebook), as_version=4).cells
    cell = next(c for c in cells if "parameters" in c.metadata.get("tags", []))
    assert cell.source.rstrip("\n") == cell_source(spec.params).rstrip("\n")  # `make notebooks` rewrites it
    cfg = pr_config()
    cfg.infer.batch_size, cfg.section("mean_prompt").text = 3, "improve it"
    made = from_config(spec.params, cfg, rows=2)
    assert (made.batch_size, made.mean_prompt, made.rows, made.template) == (3, "improve it", 2, cfg.infer.template)
    for bad, message in (({"batch_size": 0}, "batch_size = 0: must be >= 1 rows"),
                         ({"load_in_4bit": "yes"}, "parameter load_in_4bit: expected bool"),
                         ({"template": "nope"}, "unknown template"),
                         ({"budget_seconds": 60, "margin_seconds": 60}, "leaves nothing of the budget")):
        with pytest.raises(ConfigError, match=message):
            spec.params(**bad)


def test_adapter_folders_are_checked_on_the_host_before_any_kernel_starts(tmp_path, capsys):
    """`--adapter` gets push-adapter's checks and words: one line naming the folder or file, no run folder made
    (before, an empty folder reached the kernel and failed there naming /kaggle paths)."""
    from kit.cli import run
    from kit.errors import ConfigError, InputError

    empty, unweighted, unrecorded = (tmp_path / name for name in ("empty", "unweighted", "unrecorded"))
    for folder in (empty, unweighted, unrecorded):
        folder.mkdir()
    for folder in (unweighted, unrecorded):
        (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "base", "r": 8}))
    (unrecorded / "adapter_model.safetensors").write_bytes(b"\0" * 64)
    for folder, code, problem in ((tmp_path / "missing", InputError.exit_code, f"adapter folder {tmp_path}/missing "
                                                                                "does not exist"),
                                  (empty, InputError.exit_code, f"{empty} has no adapter_config.json"),
                                  (unweighted, InputError.exit_code, f"{unweighted} has no adapter weights"),
                                  (unrecorded, ConfigError.exit_code, f"{unrecorded} has no kit_adapter.json, the "
                                                                      "record of how its weights were trained")):
        out = tmp_path / f"out-{folder.name}"
        assert run(["run-local", "--template", "fewshot", "--rows", "1", "--adapter", str(folder), "--out",
                    str(out)]) == code
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and problem in err, err
        assert not out.exists()
    assert "or rehearse it anyway with --no-record" in err


def test_an_adapter_without_its_record_is_rehearsed_with_a_warning_when_told(tmp_path):
    from kit.chain.run_local import check_adapter

    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "base", "r": 8}))
    (folder / "adapter_model.safetensors").write_bytes(b"\0" * 64)
    [warning] = check_adapter(folder, require_record=False)
    assert warning.startswith(f"{folder} has no kit_adapter.json") and "cannot predict the way training did" in warning
    (folder / "kit_adapter.json").write_text(json.dumps({"template": "best", "prime": ""}))
    assert check_adapter(folder) == [] and check_adapter(folder, require_record=False) == []


def test_an_interrupted_run_says_whether_its_submission_is_the_fallback_or_partial(tmp_path):
    """The line an interrupted run-local prints: what the folder keeps, and the submission file against the
    kernel's first write of it (a kit kernel's complete fallback)."""
    from kit.chain.run_local import left_behind
    from kit.tables import write_rows

    spec = get_pack("llm-prompt-recovery").submission
    out, first = tmp_path / "out", tmp_path / "first.csv"
    out.mkdir()
    (out / "kernel_log.txt").write_text("log")
    (out / ".submission.csv.x1.tmp").write_text("")  # an atomic write cut short: not listed
    said = left_behind(out, spec, first)
    assert said == (f"run-local interrupted: the kernel and every process it started are stopped; {out} keeps "
                    "kernel_log.txt; no submission.csv was written; nothing was recorded in the ledger")
    rows = [{"id": i, "rewrite_prompt": "Improve this text."} for i in ("000001", "000002", "-1")]
    write_rows(first, rows, spec.columns)
    write_rows(out / "submission.csv", rows, spec.columns)
    said = left_behind(out, spec, first)
    assert f"{out} keeps kernel_log.txt, submission.csv; " in said
    assert "submission.csv is the kernel's first write (the fallback), no prediction had replaced it" in said
    rows[2] = {"id": "-1", "rewrite_prompt": "Rewrite this as a poem."}
    write_rows(out / "submission.csv", rows, spec.columns)
    assert "submission.csv is partial: 1 of 3 rows predicted, the others still the kernel's first write (the " \
           "fallback)" in left_behind(out, spec, first)


@pytest.mark.slow
def test_run_local_defaults_to_the_instruct_model_and_the_mini_competition(tmp_path, instruct_model):
    """A new user's first rehearsal: no model or data configured, readable predictions, a local score."""
    out = tmp_path / "rl"
    result = CliRunner().invoke(cli, ["run-local", "--template", "fewshot", "--rows", "3",
                                      "--set", "infer.max_new_tokens=16", "--budget", "900", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "local score:" in result.output and "Kaggle budget: projected 1400 rows" in result.output
    assert "rehearsal budget (this machine): 15 min" in result.output  # the --budget, apart from Kaggle's
    assert "predict: 100%" in result.output and "3/3" in result.output  # the kernel's progress, streamed
    assert "IPKernelApp" not in result.output and (out / "infer.log").is_file()  # chatter goes to a log
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
    log = (out / "kernel_log.txt").read_text()
    assert "Successfully installed kaggle-kit" in log  # the offline install ran in the rehearsal
    assert "/kaggle/input/datasets/sandbox-user/kit-wheels" in log


@pytest.mark.slow  # starts the toy kernel twice
@pytest.mark.parametrize("chain_pack", ["toy-echo"], indirect=True)  # toy-serve's link: test_serve_sandbox.py
def test_local_runs_are_recorded_and_linked_to_the_submission_of_the_same_content(chain_workspace, tmp_path,
                                                                                   capsys):
    """Two run-local runs (two recipes), then `kit history --local --json`; a sandbox submission of the same kernel
    content links to its run, and --plot draws that point. Generic: on a toy pack (its kernel needs no model).
    toy-serve's run-local costs four kernel runs here; its link is checked on the run test_serve_sandbox makes."""
    from fakes import FakeClient

    from kit.chain.build import build_submission
    from kit.chain.history import history, linked_points
    from kit.chain.submit import submit
    from kit.cli import run

    pack = chain_workspace
    first, second = pack.templates[:2]
    for template in (second, first):
        assert run(["run-local", "--template", template, "--json"]) == 0
    runs = [json.loads(chunk) for chunk in capsys.readouterr().out.replace("}\n{", "}\n\x00{").split("\x00")]
    assert runs[0]["out_dir"] != runs[1]["out_dir"]  # a folder per run, nothing overwritten
    assert all(Path(r["out_dir"]).parent == Path("run-local").resolve() for r in runs)
    assert runs[1]["score"]["mean"] == 1.0 and runs[0]["score"]["mean"] < 1.0  # the answer, and a recipe that misses
    assert run(["history", "--local", "--json"]) == 0
    local = json.loads(capsys.readouterr().out)
    assert [o["id"] for o in local] == [runs[1]["experiment_id"], runs[0]["experiment_id"]]
    for obj, res, template in zip(local, reversed(runs), (first, second), strict=True):
        assert obj["type"] == "local" and obj["kind"] == "run-local" and obj["template"] == template
        assert obj["score"] == res["score"]["mean"] and obj["score_ci_low"] <= obj["score"] <= obj["score_ci_high"]
        assert obj["rows"] == 10 and obj["out_dir"] == res["out_dir"] and obj["content_key"] == res["content_key"]
        assert obj["data_hash"] and obj["model_hash"] is None  # a toy kernel mounts no model
    built = build_submission(pack.config(), template=first, out=tmp_path / "kernel", sandbox=True)
    assert built["content_key"] == runs[1]["content_key"] and built["local_experiment"] == runs[1]["experiment_id"]
    row = submit(pack.config(), tmp_path / "kernel", client=FakeClient(outputs=pack.good_output()), sandbox=True,
                 allow_dirty=True, poll=(0.001, 0.002), say=lambda m: None)
    assert row["status"] == "complete"
    [sub] = history(pack.slug, sandbox=True)
    assert sub["local_experiment"] == runs[1]["experiment_id"] and sub["local_score"] == 1.0
    assert history(pack.slug, sandbox=False) == []  # sandbox rows never among the real ones
    assert linked_points([sub]) == [(sub["id"], sub["local_score"], sub["public_score"])]
    png = tmp_path / "h.png"
    assert run(["history", "--sandbox", "--plot", str(png)]) == 0
    said = capsys.readouterr()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "1 linked submission(s)" in said.err
    assert f"#{runs[1]['experiment_id']}" in said.out and "local experiments" in said.out
