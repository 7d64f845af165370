"""Kernel inputs by ref: parsing as the official client validates, both Kaggle layouts, the bounded search."""

from __future__ import annotations

import pytest

from kit.errors import ConfigError, InputError
from kit.kernel.inputs import mount_path, parse_ref, resolve, resolve_all
from kit.packs.prompt_recovery.kernel import find_inputs

MODEL = "alice/mistral/PyTorch/7b-it/3"


def test_refs_are_parsed_and_malformed_ones_are_one_line():
    assert parse_ref("llm-prompt-recovery").kind == "competition"
    assert parse_ref("alice/kit-wheels").kind == parse_ref("alice/kit-wheels/4").kind == "dataset"
    assert parse_ref(MODEL).kind == "model"
    with pytest.raises(ConfigError, match="has no version"):
        parse_ref("alice/mistral/pytorch/7b-it")  # a 4-part model handle: the client wants ".../N"
    for bad in ("", "alice//x", "a/b/c", "a/b/c/d/e/f", "alice/mistral/pytorch/7b-it/latest", "a b/c"):
        with pytest.raises(ConfigError, match="malformed|no version"):
            parse_ref(bad)


def test_mount_paths_in_both_layouts():
    assert mount_path("llm-prompt-recovery") == "competitions/llm-prompt-recovery"
    assert mount_path("llm-prompt-recovery", "2024") == "llm-prompt-recovery"
    assert mount_path("alice/kit-wheels/4") == "datasets/alice/kit-wheels"
    assert mount_path("alice/kit-wheels/4", "2024") == "kit-wheels"
    assert mount_path(MODEL) == "models/alice/mistral/pytorch/7b-it/3"  # framework folder in lower case
    assert mount_path(MODEL, "2024") == "mistral/PyTorch/7b-it/3"
    with pytest.raises(ConfigError, match="layout"):
        mount_path(MODEL, "2023")


def _tree(root, rels):
    for rel, marker in rels:
        (root / rel).mkdir(parents=True, exist_ok=True)
        (root / rel / marker).write_text("x")
    return root


def test_resolve_new_layout_then_old_then_search_then_one_line(tmp_path):
    new = _tree(tmp_path / "new", [("datasets/alice/kit-wheels", "manifest.json"),
                                   ("models/alice/mistral/pytorch/7b-it/3", "config.json"),
                                   ("competitions/llm-prompt-recovery", "test.csv")])
    found = resolve_all({"wheels": "alice/kit-wheels/4", "model": MODEL, "competition": "llm-prompt-recovery",
                         "adapter": ""}, {"wheels": "manifest.json", "model": "config.json"}, new)
    assert found == {"wheels": new / "datasets/alice/kit-wheels", "model": new / "models/alice/mistral/pytorch/7b-it/3",
                     "competition": new / "competitions/llm-prompt-recovery"}
    old = _tree(tmp_path / "old", [("kit-wheels", "manifest.json"), ("mistral/PyTorch/7b-it/3", "config.json")])
    assert resolve("alice/kit-wheels", "manifest.json", old) == old / "kit-wheels"
    assert resolve(MODEL, "config.json", old) == old / "mistral/PyTorch/7b-it/3"
    odd = _tree(tmp_path / "odd", [("some-mount/v2/kit-wheels", "manifest.json"), ("other", "manifest.json")])
    assert resolve("alice/kit-wheels", "manifest.json", odd) == odd / "some-mount/v2/kit-wheels"
    with pytest.raises(InputError) as err:
        resolve("alice/kit-adapter", "adapter_config.json", odd)
    line = str(err.value)
    assert "alice/kit-adapter" in line and "odd holds: other, some-mount/v2/kit-wheels" in line
    assert "\n" not in line


def test_kernel_find_inputs_uses_markers_by_name(tmp_path):
    root = _tree(tmp_path, [("datasets/alice/kit-adapter", "adapter_config.json"),
                            ("competitions/llm-prompt-recovery", "test.csv"),
                            ("models/alice/rewriter/transformers/default/1", "config.json")])
    found = find_inputs({"competition": "llm-prompt-recovery", "adapter": "alice/kit-adapter/2",
                         "rewriter": "alice/rewriter/transformers/default/1", "model": ""}, root)
    assert set(found) == {"competition", "adapter", "rewriter"}
    (root / "datasets/alice/kit-adapter/adapter_config.json").unlink()
    with pytest.raises(InputError, match="alice/kit-adapter/2 not found.*adapter_config.json"):
        find_inputs({"adapter": "alice/kit-adapter/2"}, root)
    with pytest.raises(ConfigError, match="source 'model'"):
        find_inputs({"model": "alice/mistral/pytorch/v1"}, root)
