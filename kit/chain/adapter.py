"""`kit push-adapter`: validate a LoRA adapter folder and push it as a private Kaggle dataset version.

What goes up is kit.chain.uploads' adapter allowlist, scanned for credentials. The push itself (staging,
dataset-metadata.json, create-or-version, wait for READY) is `KaggleClient.dataset_push`; skipping an unchanged
folder and the ledger row are `kit.chain.pushes.push_dataset`'s. This module adds the adapter-specific checks in front
(it lives outside kit/kaggle/ because it persists through the ledger).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kit.artefacts import ADAPTER_META_NAME, AdapterInfo
from kit.chain.uploads import adapter_upload
from kit.config import KitConfig
from kit.errors import ConfigError, InputError
from kit.kaggle import metadata

WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


def _json_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} must hold a JSON object")
    return data


def missing_record(path: Path) -> str:
    """Why an adapter folder without kit_adapter.json is refused (push-adapter, run-local), in one line."""
    return (f"{path} has no {ADAPTER_META_NAME}, the record of how its weights were trained; without it the kernel "
            "cannot predict the way training did (a pack may record the prompt format it trained in)")


def validate_adapter(path: Path, include: tuple[str, ...] | list[str] = (), *,
                     require_record: bool = True) -> dict[str, Any]:
    """Check a PEFT adapter folder: adapter_config.json, non-empty weights, kit_adapter.json (required unless
    `require_record` is off, and checked when present), the upload allowlist (plus `include` globs), links and
    credentials (kit.chain.uploads).

    Without kit_adapter.json the kernel cannot know how the weights were trained (the pack's own fields, such as
    the prompt format) and predicts its own way, silently worse; so a folder without one (an adapter from elsewhere, or
    one a kit before the atomic adapter folder left half-written) is refused unless the caller says so.

    Returns what was found: carried files, files left out, weights file, base model, the kit_adapter.json content.
    """
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"adapter folder {path} does not exist", hint="train one with `kit train`")
    config_path = path / "adapter_config.json"
    if not config_path.is_file():
        raise InputError(f"{path} has no adapter_config.json", hint="point at the folder `kit train` wrote")
    adapter_config = _json_file(config_path)
    weights = next((w for w in WEIGHTS if (path / w).is_file()), None)
    if weights is None:
        raise InputError(f"{path} has no adapter weights ({' or '.join(WEIGHTS)})")
    if (path / weights).stat().st_size == 0:
        raise InputError(f"{path / weights} is empty")
    found = AdapterInfo.find(path)  # one line naming the file when it is malformed
    if found is None and require_record:
        raise ConfigError(missing_record(path), hint="train it with `kit train`, or push it anyway with --no-record")
    kit_adapter = found.to_dict() if found else None
    chosen = adapter_upload(path, include)  # links and secrets refused before anything is sent
    return {"files": [str(f) for f in chosen.files], "left_out": chosen.left_out, "weights": weights,
            "kit_adapter": kit_adapter, "base_model": adapter_config.get("base_model_name_or_path", "")}


def push_adapter(config: KitConfig, path: Path, *, slug: str | None = None, public: bool = False,
                 wait: bool = True, sandbox: bool | None = None, license: str | None = None,
                 notes: str = "", timeout: float | None = None, client: Any = None,
                 include: tuple[str, ...] | list[str] = (), require_record: bool = True) -> dict[str, Any]:
    """Validate and push the allowlisted files of `path` as the adapter dataset; returns what was pushed (or
    skipped) and what was left out. `require_record` off pushes a folder without kit_adapter.json."""
    from kit.chain.pushes import push_dataset
    from kit.kaggle.client import kaggle_client

    slug = metadata.check_slug(slug or config.kaggle.adapter_dataset)  # the flags first, then the folder
    license = metadata.check_license(license, "--license") if license else None  # None: [kaggle]'s
    info = validate_adapter(path, include, require_record=require_record)
    client = client or kaggle_client(config, sandbox=sandbox)
    pushed = push_dataset(client, Path(path), slug, kind="adapter", public=public, wait=wait, license=license,
                          notes=notes or "adapter pushed by kit", timeout=timeout,
                          files=[Path(f) for f in info["files"]])
    return {"ref": pushed.ref, "version": pushed.version, "content_hash": pushed.content_hash,
            "skipped": pushed.skipped, "status": pushed.status, "files": list(pushed.files),
            "size_bytes": pushed.size_bytes, "seconds": round(pushed.seconds, 2), "public": public,
            "sandbox": client.sandbox, "base_model": info["base_model"], "weights": info["weights"],
            "left_out": info["left_out"]}
