"""Uploads: the adapter allowlist, link checks and the credential scanner (adapters, wheels bundles, kernels).

Every credential below is assembled at run time from harmless pieces, so this file holds none."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from kit.chain.adapter import validate_adapter
from kit.chain.uploads import check_bundle, check_kernel, scan_bytes
from kit.errors import InputError

HEX32 = "0123456789abcdef" * 2
SECRETS = {  # kind -> text holding a credential of that shape
    "Kaggle API key (kaggle.json)": json.dumps({"username": "alice", "key": HEX32}),
    "Kaggle API token": "token = KGAT_" + "a1B2" * 8,
    "Hugging Face token": "HF_TOKEN=hf_" + "AbCdEfGhIj" * 3 + "KlMn",
    "private key": "-----BEGIN " + "OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n",
    "netrc entry": "machine api.kaggle.com login alice password " + "s3cr3t-pass",
    "AWS access key id": "aws_access_key_id = AKIA" + "IOSFODNN7EXAMPLE",
    "AWS secret access key": "aws_secret_access_key = " + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "Google Cloud service-account key": json.dumps({"type": "service_account", "project_id": "p"}),
}


def _adapter(root: Path) -> Path:
    from test_push_adapter import make_adapter

    make_adapter(root)
    (root / "tokenizer.json").write_text('{"model": {"vocab": {"hf_": 1, "machine": 2}}}')  # words, not secrets
    return root


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_scanner_finds_each_kind_and_never_quotes_it(kind):
    found = scan_bytes(("first line\n" + SECRETS[kind]).encode(), "notes.txt")
    assert [f.kind for f in found] == [kind]
    assert found[0].line == 2 and SECRETS[kind].split()[-1] not in str(found[0])


def test_ordinary_model_files_are_not_flagged():
    for text in ('{"model_type": "mistral", "vocab_size": 2048}', "machine learning with a password manager",
                 '{"key": "not-hex"}', "hf_hub_download(repo)"):
        assert scan_bytes(text.encode(), "x") == []


def test_salted_adapter_uploads_only_its_allowlist(tmp_path):
    adapter = _adapter(tmp_path / "adapter")
    salted = {"kaggle.json": SECRETS["Kaggle API key (kaggle.json)"], ".netrc": SECRETS["netrc entry"],
              "id_ed25519": SECRETS["private key"], ".aws/credentials": SECRETS["AWS secret access key"],
              "notes/hf.txt": SECRETS["Hugging Face token"], "train.log": "step 1 loss 2.0"}
    for name, text in salted.items():
        (adapter / name).parent.mkdir(parents=True, exist_ok=True)
        (adapter / name).write_text(text)
    info = validate_adapter(adapter)
    assert info["files"] == ["adapter_config.json", "adapter_model.safetensors", "kit_adapter.json",
                             "tokenizer.json"]
    assert sorted(info["left_out"]) == sorted([".aws/credentials", ".netrc", "id_ed25519", "kaggle.json",
                                               "notes/hf.txt", "train.log"])
    assert validate_adapter(adapter, include=["*.log"])["files"][-1] == "train.log"  # added on purpose
    with pytest.raises(InputError, match=r"notes/hf\.txt line 1: Hugging Face token") as err:
        validate_adapter(adapter, include=["notes/*"])  # included, then refused: it holds a token
    assert "hf_Ab" not in str(err.value)
    (adapter / "README.md").write_text("Trained with\n" + SECRETS["Kaggle API token"])
    with pytest.raises(InputError, match=r"README\.md line 2: Kaggle API token"):
        validate_adapter(adapter)


def test_links_reaching_outside_are_refused(tmp_path):
    adapter = _adapter(tmp_path / "adapter")
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"x")
    os.link(outside, adapter / "adapter_model.bin")
    with pytest.raises(InputError, match="hard link to a file outside"):
        validate_adapter(adapter)
    (adapter / "adapter_model.bin").unlink()
    os.link(adapter / "tokenizer.json", adapter / "tokenizer_copy.json")  # both names inside: fine
    assert "tokenizer_copy.json" in validate_adapter(adapter)["left_out"]


def test_wheels_bundle_and_kernel_folders_are_scanned(tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "manifest.json").write_text("{}")
    with zipfile.ZipFile(bundle / "kaggle_kit-0.1-py3-none-any.whl", "w") as zf:
        zf.writestr("kit/__init__.py", "x = 1\n")
        zf.writestr("kit/leak.py", "KEY = '" + SECRETS["Kaggle API token"].split()[-1] + "'\n")
    with zipfile.ZipFile(bundle / "third_party-1.0-py3-none-any.whl", "w") as zf:
        zf.writestr("tp/tests/key.pem", SECRETS["private key"])  # PyPI wheels pinned by sha256: not scanned
    with pytest.raises(InputError, match=r"kaggle_kit-0\.1-py3-none-any\.whl:kit/leak\.py line 1: Kaggle API token"):
        check_bundle(bundle, "manifest.json", "kaggle_kit-")
    (bundle / "kaggle_kit-0.1-py3-none-any.whl").unlink()
    check_bundle(bundle, "manifest.json", "kaggle_kit-")
    kernel = tmp_path / "kernel"
    kernel.mkdir()
    (kernel / "kernel-metadata.json").write_text("{}")
    (kernel / "infer.ipynb").write_text(json.dumps({"cells": [{"source": SECRETS["Hugging Face token"]}]}))
    with pytest.raises(InputError, match=r"infer\.ipynb line 1: Hugging Face token"):
        check_kernel(kernel, "infer.ipynb", "kernel-metadata.json")
