"""`kit push-adapter` against the sandbox emulator (started in the background by --sandbox, stopped after)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kit.chain.adapter import validate_adapter
from kit.cli import run
from kit.errors import ConfigError, InputError
from kit.kaggle import sandbox
from kit.ledger import Ledger

pytestmark = pytest.mark.usefixtures("prompt_recovery_workspace")  # the tests run in a pack-1 workspace


@pytest.fixture
def sandbox_emulator():
    yield
    sandbox.stop_emulator()


def make_adapter(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "tiny", "r": 8}))
    (root / "adapter_model.safetensors").write_bytes(b"\1" * 1000)
    (root / "tokenizer.json").write_text("{}")
    (root / "kit_adapter.json").write_text(json.dumps({"pack": "llm-prompt-recovery", "template": "fewshot"}))
    return root


def push(args: list[str], capsys) -> tuple[int, dict]:
    code = run(["push-adapter", *args, "--sandbox", "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if code == 0 else {}


def stored_files(ref: str, version: int) -> list[str]:
    folder = sandbox.sandbox_dir() / "state" / "datasets" / ref / str(version)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_push_filters_secrets_and_skips_unchanged(tmp_path, capsys, sandbox_emulator):
    adapter = make_adapter(tmp_path / "adapter")
    from test_uploads import SECRETS

    junk = {"kaggle.json": SECRETS["Kaggle API key (kaggle.json)"], ".netrc": SECRETS["netrc entry"],
            "id_rsa": SECRETS["private key"], ".env": SECRETS["Hugging Face token"], "access_token": "secret",
            "hf_token.txt": "secret", ".git/config": "x", "__pycache__/x.pyc": "x", "checkpoint-10/optimizer.pt": "x",
            ".cache/blob": "x"}
    for name, text in junk.items():
        (adapter / name).parent.mkdir(parents=True, exist_ok=True)
        (adapter / name).write_text(text)
    code, first = push([str(adapter)], capsys)
    assert code == 0 and first["status"] == "ready" and not first["skipped"] and first["sandbox"]
    assert sorted(first["left_out"]) == sorted(junk)  # every one listed, none uploaded
    assert first["ref"] == "sandbox-user/kit-lora-adapter" and first["version"] == 1
    assert stored_files(first["ref"], 1) == ["adapter_config.json", "adapter_model.safetensors", "kit_adapter.json",
                                             "tokenizer.json"]
    state = json.loads((sandbox.sandbox_dir() / "state" / "state.json").read_text())
    assert state["datasets"][first["ref"]]["private"] is True
    assert run(["push-adapter", str(adapter), "--sandbox"]) == 0
    said = capsys.readouterr()
    assert "left out (not in the upload allowlist" in said.err and "kaggle.json" in said.err
    assert "unchanged, not pushed" in said.out
    code, again = push([str(adapter)], capsys)
    assert code == 0 and again["skipped"] and again["version"] == 1
    (adapter / "adapter_model.safetensors").write_bytes(b"\2" * 1000)
    code, second = push([str(adapter), "-m", "retrained"], capsys)
    assert code == 0 and second["version"] == 2 and second["content_hash"] != first["content_hash"]
    rows = Ledger().datasets()
    assert [(r["version"], r["status"], r["sandbox"]) for r in rows] == [(1, "ready", 1), (1, "skipped", 1),
                                                                          (1, "skipped", 1), (2, "ready", 1)]


def test_no_wait_public_and_slug(tmp_path, capsys, sandbox_emulator):
    adapter = make_adapter(tmp_path / "adapter")
    code, result = push([str(adapter), "--slug", "my-public-adapter", "--public", "--no-wait"], capsys)
    assert code == 0 and result["public"] and result["status"] != "ready"
    assert Ledger().datasets()[0]["status"] == "pending"
    state = json.loads((sandbox.sandbox_dir() / "state" / "state.json").read_text())
    assert state["datasets"]["sandbox-user/my-public-adapter"]["private"] is False
    assert run(["push-adapter", str(adapter), "--slug", "short", "--sandbox"]) == ConfigError.exit_code


def test_invalid_adapters_are_refused_before_any_upload(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        validate_adapter(tmp_path / "missing")
    bare = tmp_path / "bare"
    bare.mkdir()
    with pytest.raises(InputError, match="adapter_config.json"):
        validate_adapter(bare)
    (bare / "adapter_config.json").write_text("{}")
    with pytest.raises(InputError, match="no adapter weights"):
        validate_adapter(bare)
    (bare / "adapter_model.bin").write_bytes(b"x")
    (bare / "kit_adapter.json").write_text("{not json")
    with pytest.raises(InputError, match="kit_adapter.json"):
        validate_adapter(bare)
    linked = make_adapter(tmp_path / "linked")
    outside = tmp_path / "outside.txt"
    outside.write_text("private")
    os.symlink(outside, linked / "notes.txt")
    with pytest.raises(InputError, match="symlink leaving"):
        validate_adapter(linked)
    assert run(["push-adapter", str(linked), "--sandbox"]) == InputError.exit_code
    assert not (sandbox.sandbox_dir() / "state" / "emulator.port").exists()  # refused before the sandbox started


def test_an_adapter_without_its_record_is_refused_unless_told(tmp_path, capsys, sandbox_emulator):
    """Issue 22 item 1: weights without kit_adapter.json would predict in the wrong format on Kaggle; the push is
    refused before anything is sent, in one line naming the folder and the way out, and --no-record pushes it."""
    adapter = make_adapter(tmp_path / "adapter")
    (adapter / "kit_adapter.json").unlink()
    assert run(["push-adapter", str(adapter), "--sandbox"]) == ConfigError.exit_code
    err = capsys.readouterr().err
    assert f"{adapter} has no kit_adapter.json" in err and "--no-record" in err and err.count("\n") == 1
    assert not (sandbox.sandbox_dir() / "state" / "emulator.port").exists()  # refused before the sandbox started
    assert Ledger().datasets() == []
    code, pushed = push([str(adapter), "--no-record"], capsys)
    assert code == 0 and pushed["version"] == 1
    assert stored_files(pushed["ref"], 1) == ["adapter_config.json", "adapter_model.safetensors", "tokenizer.json"]
