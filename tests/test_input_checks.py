"""Bad input named fast (score, run-local --data, train, kernel parameters) and the small CLI edges."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from helpers import pr_config, pr_workspace

from kit.cli import hoist_config, run
from kit.errors import ConfigError, InputError
from kit.notebooks import keep_line
from kit.packs.prompt_recovery.samples import sample_data_dir

pytestmark = pytest.mark.usefixtures("prompt_recovery_workspace")  # the tests run in a pack-1 workspace

GOOD = "id,rewrite_prompt\na,Make it a poem\nb,Rewrite formally\n"


@pytest.fixture()
def no_model(monkeypatch):
    """Any embedder load fails the test: the checks must come first."""
    from kit.packs.prompt_recovery import metric

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the input checks")

    monkeypatch.setattr(metric, "load_embedder", refuse)


@pytest.mark.parametrize("preds, labels, message", [
    ("id,prompt\na,x\n", GOOD, "{p}: missing column(s) rewrite_prompt"),
    ("id,rewrite_prompt\na,x\na,y\nb,z\n", GOOD, "{p}: 1 duplicate id(s) in the predictions, first: 'a'"),
    ("id,rewrite_prompt\na,x\n,y\n", GOOD, "{p}: 1 row(s) in the predictions with a blank id"),
    ("id,rewrite_prompt\na,x\nb,nan\n", GOOD, "{p}: 1 blank or NaN prediction(s).*first ids: 'b'"),
    ("id,rewrite_prompt\na,x\nc,y\n", GOOD, "{p} vs {l}: predictions are missing 1 id.*'b'"),
    (GOOD, "id,rewrite_prompt\na,\nb,x\n", "{l}: 1 blank label(s), first ids: 'a'"),
    (b"id,rewrite_prompt\na,caf\xe9\nb,x\n", GOOD, "{p}: not UTF-8 text"),
])
def test_score_checks_both_files_before_any_model(tmp_path, no_model, preds, labels, message):
    p, lab = tmp_path / "preds.csv", tmp_path / "labels.csv"
    for path, text in ((p, preds), (lab, labels)):
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    import re

    from kit.packs.prompt_recovery.metric import score_files

    with pytest.raises(InputError, match=re.escape(message.format(p=p, l=lab)).replace(r"\.\*", ".*")):
        score_files(p, lab)


def test_run_local_names_the_users_file_and_first_bad_ids(tmp_path, capsys):
    data = tmp_path / "mydata"
    shutil.copytree(sample_data_dir(), data)
    text = (data / "test.csv").read_text().splitlines()
    (data / "test.csv").write_text("\n".join(text + [text[1]]) + "\n")  # the first row again
    first_id = text[1].split(",")[0]
    assert run(["run-local", "--data", str(data), "--out", str(tmp_path / "out")]) == InputError.exit_code
    err = capsys.readouterr().err
    assert f"{data / 'test.csv'}: 1 duplicate id(s), first: '{first_id}'" in err
    (data / "test.csv").write_text("\n".join(text) + "\n")
    labels = (data / "test_labels.csv").read_text().splitlines()
    (data / "test_labels.csv").write_text("\n".join(labels[:1] + labels[2:]) + "\n")  # first label missing
    assert run(["run-local", "--data", str(data), "--out", str(tmp_path / "out")]) == InputError.exit_code
    assert f"{data / 'test_labels.csv'}: no label for 1 id(s)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing written, no kernel started


def test_train_through_the_notebook_names_bad_data_before_it_starts(tmp_path, capsys):
    bad = tmp_path / "mine.csv"
    bad.write_text("original_text,rewritten_text\na,b\n")
    assert run(["train", "--data", str(bad), "--out", str(tmp_path / "ad")]) == InputError.exit_code
    assert f"{bad}: missing column(s) rewrite_prompt" in capsys.readouterr().err
    assert not (tmp_path / "ad-checkpoints").exists()  # no notebook ran


def test_build_submission_validates_parameters_like_run_local(tmp_path, capsys):
    from kit.chain.build import build_submission
    from kit.chain.run_local import run_local

    for infer, message in (({"batch_size": 0}, "batch_size = 0: must be >= 1"),
                           ({"max_new_tokens": 0}, "max_new_tokens = 0: must be >= 1"),
                           ({"margin_seconds": 40000}, "leaves nothing of the budget")):
        cfg = pr_config({"kaggle": {"username": "alice"}, "infer": infer})
        with pytest.raises(ConfigError, match=message):
            build_submission(cfg, template="mean", out=tmp_path / "kernel", sandbox=True)
        with pytest.raises(ConfigError, match=message):
            run_local(cfg, template="mean", out=tmp_path / "rl")
    assert not (tmp_path / "kernel").exists() and not (tmp_path / "rl").exists()
    from kit.kernel.params import validate
    from kit.pack import get_pack

    notebook = get_pack("llm-prompt-recovery").kernel.notebook
    with pytest.raises(ConfigError, match="expected bool"):  # a plain mapping is checked against the notebook
        validate({"load_in_4bit": "yes"}, notebook)
    with pytest.raises(ConfigError, match="unknown parameter"):
        validate({"no_such_knob": 1}, notebook)


def test_progress_lines_are_kept_and_chatter_dropped():
    keep = ["predict:  50%|#####     | 3/6 [00:02<00:02, 1.2row/s]", "[train] step 2/4 loss 3.1 lr 0.0002",
            "6 rows, template fewshot, 1 prime(s); fallback submission.csv written; 890s to the deadline"]
    drop = ["[IPKernelApp] WARNING | Unknown error in handling startup files", "Loading checkpoint shards: 50%|##| 1/2",
            "Loading weights: 100%|##########| 12/12", " 25%|##5       | 1/4 [00:01<00:03]",
            "/x/y.py:3: UserWarning: something", "  warnings.warn(", "   "]
    assert [line for line in keep + drop if keep_line(line)] == keep
    from kit.notebooks import _ProgressLines

    shown: list[str] = []
    sink = _ProgressLines(shown.append)
    sink.write("x.py:1: TqdmWarning: IProgress not found\n  from .autonotebook import tqdm\npredict:   0%|  | 0/4")
    sink.write("\rpredict: 100%|##| 4/4 [00:03<00:00, 1.2row/s]\n  indented kit line\n")
    sink.flush()
    assert shown == ["predict:   0%|  | 0/4", "predict: 100%|##| 4/4 [00:03<00:00, 1.2row/s]", "  indented kit line"]


def test_config_after_the_subcommand_and_templates_validates_it(tmp_path, capsys):
    assert hoist_config(["history", "--json", "--config", "a.toml"]) == ["--config", "a.toml", "history", "--json"]
    assert hoist_config(["score", "--config=b.toml", "p", "--", "--config"]) == ["--config=b.toml", "score", "p",
                                                                                   "--", "--config"]
    bad = pr_workspace("[infer]\nbatch_size = 'eight'\n", tmp_path)
    assert run(["templates", "--config", str(bad)]) == ConfigError.exit_code
    assert "batch_size" in capsys.readouterr().err
    assert run(["templates", "--json"]) == 0


def test_run_local_help_shows_its_default_folder(capsys):
    assert run(["run-local", "--help"]) == 0
    assert "run-local/<UTC time>-<template>" in capsys.readouterr().out


def test_emulator_stop_returns_once_the_process_has_exited():
    from kit.kaggle.sandbox import ensure_emulator, stop_emulator

    found = ensure_emulator()
    assert found.pid and stop_emulator()
    with pytest.raises(ProcessLookupError):
        os.kill(found.pid, 0)
    assert stop_emulator() is False
    assert Path(found.state_dir / "emulator.port").exists() is False


def test_assets_says_what_it_builds_while_it_builds(tmp_path, monkeypatch, capsys):
    from kit import assets

    def build(out: Path, corpus: list[str]) -> Path:
        assert "building the embedded tiny model" in capsys.readouterr().err  # said before the work starts
        (out / "config.json").write_text("{}")
        return out

    monkeypatch.setenv("KIT_ASSETS_DIR", str(tmp_path / "assets"))
    monkeypatch.setattr(assets, "build_tiny_model", build)
    assert assets.tiny_model_path().parent == tmp_path / "assets"
    assets.tiny_model_path()  # built already: silent
    assert "building" not in capsys.readouterr().err
