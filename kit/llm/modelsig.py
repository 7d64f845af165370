"""A model's shape signature, read from its config.json, so an adapter can be checked against the base model a
kernel mounts before anything loads.

A LoRA adapter only fits the architecture it was trained on; loading it onto another base fails deep inside peft
with a tensor-shape error, or worse, loads onto a same-shaped but different model. The paths differ between the
training machine and a Kaggle kernel, so the check compares what the weights depend on: the config's architecture
and sizes. Plain JSON only (no transformers import): the kernel runs it before loading the model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kit.errors import InputError

# The config keys a LoRA adapter's shapes depend on (absent keys are left out of the signature).
SIGNATURE_KEYS = ("model_type", "architectures", "hidden_size", "intermediate_size", "num_hidden_layers",
                  "num_attention_heads", "num_key_value_heads", "vocab_size")


def signature(model_dir: str | Path) -> dict[str, Any]:
    """The signature of the model in `model_dir` (its config.json), e.g. {"model_type": "llama", ...}."""
    path = Path(model_dir) / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the model's config ({type(exc).__name__})") from None
    return {key: config[key] for key in SIGNATURE_KEYS if key in config}


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """'key: expected -> actual' for every signature key both sides have and that differs."""
    return [f"{key} {expected[key]!r} vs {actual[key]!r}" for key in SIGNATURE_KEYS
            if key in expected and key in actual and expected[key] != actual[key]]


def check_adapter_base(adapter_dir: str | Path | None, model_dir: str | Path, model_name: str = "") -> None:
    """InputError (one line) when the adapter's kit_adapter.json records a base signature that the model in
    `model_dir` does not match; nothing to check without an adapter or without a recorded signature."""
    from kit.artefacts import AdapterInfo

    info = AdapterInfo.find(adapter_dir)
    if info is None or not info.base_signature:
        return  # no adapter, or one trained elsewhere: peft's own checks are all there is
    diff = differences(info.base_signature, signature(model_dir))
    if diff:
        raise InputError(f"adapter {adapter_dir} was trained on another base model than {model_name or model_dir}: "
                         + "; ".join(diff),
                         hint="mount the base model the adapter was trained on ([kaggle] base_model)")
