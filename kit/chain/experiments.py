"""Local experiments (`kit run-local` runs, `kit train` validations) and the content key that links them to
submissions.

The content key. `kit build-submission` hashes the kernel Kaggle will run (kit/chain/build.py's kernel_hash: the
rendered cells plus kernel-metadata.json); `kit run-local` executes the same notebook with different *location*
parameters (a temp input tree, local folders), so the two notebooks can never hash alike. Both sides can
compute, and do compute with `content_key` below, the same key from what decides the predictions:

- the notebook's code: every cell source except papermill's injected-parameters cell, and its kernelspec;
- the parameters that decide the predictions: the pack's params dataclass marks the others (where things live,
  such as sources and input_dir, and rehearsal-only knobs that change how much is done, not what, such as the
  budget or a row limit) with `content=False` (kit.kernel.params.param), and the callers pass
  `kit.kernel.params.content_values(params)`;
- for templates that load a model: the adapter's content hash over its upload allowlist (the same hash the
  ledger records for the pushed dataset version, so a pushed adapter and its local folder agree), and the base
  model's identity: `kit:<name>` for the kit's embedded model, else `external` (a Kaggle model cannot be
  hashed from here; the adapter's own config names the base it was trained on).

The kit's library version is not in the key: run-local runs the working tree, a kernel runs its wheels bundle.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kit.artefacts import SubmissionStatus

EXTERNAL_MODEL = "external"
EMBEDDED_PREFIX = "kit:"
RUN_LOCAL_ROOT = Path("run-local")
DEFAULT_OUT_HELP = "run-local/<UTC time>-<template>, a new folder per run"


def code_hash(notebook: Path, injected: bool = False) -> str:
    """sha256 over a notebook's cell types and sources and its kernelspec name: the one notebook hash. Papermill's
    volatile metadata (paths, timestamps, outputs) is left out, and so is its injected-parameters cell unless
    `injected` (a built kernel's values are part of what Kaggle runs; a local run's are compared separately)."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    cells = []
    for cell in nb.get("cells", []):
        if not injected and "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        src = cell.get("source", "")
        cells.append([cell.get("cell_type"), "".join(src) if isinstance(src, list) else src])
    spec = (nb.get("metadata", {}).get("kernelspec") or {}).get("name")
    return hashlib.sha256(json.dumps({"cells": cells, "kernelspec": spec}).encode()).hexdigest()


def content_key(code: str, params: dict[str, Any], *, needs_model: bool, base_model: str | None,
                adapter_hash: str | None) -> str:
    """The key a local run and a built kernel of the same content share; `params`: the content parameters only."""
    body = {"code": code, "params": params,
            "base_model": base_model if needs_model else None, "adapter": adapter_hash if needs_model else None}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def base_identity(model: str | Path | None) -> str:
    """`kit:<folder>` for one of the kit's embedded models (a folder under the assets dir), else `external`."""
    if model is None:
        return EXTERNAL_MODEL
    text = str(model)
    if text.startswith(EMBEDDED_PREFIX):
        return text
    from kit.assets import assets_dir

    path = Path(text).resolve()
    if path.parent == assets_dir().resolve():  # one of the kit's embedded models, named by its build folder
        return f"{EMBEDDED_PREFIX}{path.name}"
    return EXTERNAL_MODEL


def adapter_hash(folder: str | Path | None) -> str | None:
    """Content hash of the adapter's allowlisted files: what `kit push-adapter` would upload and record."""
    if not folder or not Path(folder).is_dir():
        return None
    from kit.chain.uploads import ADAPTER_ALLOWLIST
    from kit.kaggle.metadata import content_hash

    files = sorted(Path(n) for n in ADAPTER_ALLOWLIST if (Path(folder) / n).is_file())
    return content_hash(Path(folder), files) if files else None


def model_fingerprint(folder: str | Path | None) -> str | None:
    """A cheap identity of a model folder: names and sizes of its files plus the bytes of its JSON files.

    Hashing multi-GB weights on every rehearsal would cost minutes; a retrained or swapped model changes a
    size or its config in practice."""
    if not folder or not Path(folder).is_dir():
        return None
    digest = hashlib.sha256()
    root = Path(folder)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        digest.update(f"{rel}\0{path.stat().st_size}\0".encode())
        if path.suffix == ".json":
            digest.update(path.read_bytes())
    return digest.hexdigest()


def data_hash(*files: Path) -> str:
    """sha256 over the given files' paths (relative to the first one's folder: two `x.csv` in different subfolders
    are two files) and bytes; missing files skipped."""
    digest = hashlib.sha256()
    root = Path(files[0]).parent if files else Path(".")
    for path in files:
        if Path(path).is_file():
            name = os.path.relpath(path, root)
            digest.update(name.encode() + b"\0" + Path(path).read_bytes() + b"\0")
    return digest.hexdigest()


def default_out(template: str, root: Path = RUN_LOCAL_ROOT) -> Path:
    """A new run folder `run-local/<UTC time>-<template>` (a suffix when two runs start in the same second)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = root / f"{stamp}-{template}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def _score_fields(score: dict[str, Any] | None) -> dict[str, Any]:
    if not score:
        return {}
    return {"score": score.get("mean"), "score_ci_low": score.get("ci_low"), "score_ci_high": score.get("ci_high"),
            "score_n": score.get("n"), "scorer": score.get("scorer")}


def _record(kind: str, ledger: Any, **fields: Any) -> int:
    from kit import __version__
    from kit.ledger import Ledger

    led = ledger or Ledger()
    try:
        return led.add_local_experiment(kind, kit_version=__version__, **fields)
    finally:
        if ledger is None:
            led.close()


def record_run_local(result: Any, *, template: str, params: dict[str, Any], model: Path | None,
                     adapter: Path | None,
                     data_files: list[Path], key: str, ledger: Any = None) -> int:
    """Record one `kit run-local` run (a RunLocalResult) as a local experiment; returns its id."""
    return _record(
        "run-local", ledger, template=template, model_ref=str(model) if model else None,
        model_hash=model_fingerprint(model),
        adapter_ref=str(adapter) if adapter else None, adapter_hash=adapter_hash(adapter),
        data_ref=str(Path(data_files[0]).parent), data_hash=data_hash(*data_files), rows=result.rows,
        rows_per_second=result.rows_per_second, projected_seconds=result.projected_seconds,
        fits_budget=result.fits_budget, out_dir=result.out_dir, content_key=key, parameters=params,
        details={"fallback_rows": result.fallback_rows, "wall_seconds": result.wall_seconds,
                 "deadline_hit": result.deadline_hit, "warnings": result.warnings},
        **_score_fields(result.score))


def record_training(meta: dict[str, Any], *, template: str | None = None, score: dict[str, Any] | None = None,
                    score_seconds: float | None = None, ledger: Any = None) -> int | None:
    """Record a `kit train` validation as a local experiment; None without one. `meta` is the adapter's
    kit_adapter.json content (its generic fields are read); the pack says which recipe it trained for and gives its
    validation `score` (as `Pack.score` returns one) and how long scoring took."""
    if not meta:
        return None  # a non-main process of a multi-GPU run
    knobs = meta.get("knobs") or {}
    out = knobs.get("out")
    seconds = score_seconds or None
    return _record(
        "train", ledger, template=template, model_ref=meta.get("base_model"),
        model_hash=model_fingerprint(meta.get("base_model")), adapter_ref=out, adapter_hash=adapter_hash(out),
        data_ref=meta.get("data_file"), data_hash=meta.get("data_sha256"),
        rows=(score or {}).get("n"), rows_per_second=(score["n"] / seconds) if score and seconds else None,
        out_dir=out, parameters=knobs, git_sha=meta.get("git_sha"),
        details={"train_loss": meta.get("train_loss"), "val_loss": meta.get("val_loss"),
                 "global_step": meta.get("global_step"), "train_seconds": meta.get("train_seconds")},
        **_score_fields(score))


def to_object(row: dict[str, Any]) -> dict[str, Any]:
    """A local_experiments row as the public object of `kit history --json` (kind 'local')."""
    obj = {k: v for k, v in row.items() if k not in ("created_at", "kind")}
    obj["type"] = "local"
    obj["kind"] = row.get("kind")
    obj["time"] = datetime.fromtimestamp(row["created_at"], timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    obj["fits_budget"] = None if row.get("fits_budget") is None else bool(row["fits_budget"])
    for key in ("parameters", "details"):
        if isinstance(row.get(key), str):
            try:
                obj[key] = json.loads(row[key])
            except json.JSONDecodeError:
                pass
    return obj



def refuse_resubmission(ledger: Any, row_id: int, key: str | None, *, sandbox: bool) -> None:
    """AlreadySubmittedError (recorded on attempt `row_id` as refused) when another attempt of the same kernel
    content in the same place (sandbox or Kaggle) is scored or pending: a second run would spend a daily
    submission on a known answer."""
    from kit.errors import AlreadySubmittedError

    if not key:
        return  # a kernel built before content keys existed: nothing to compare
    earlier = [r for r in ledger.submissions_of_content(key, sandbox=sandbox)
               if r["id"] != row_id and r["status"] in (SubmissionStatus.COMPLETE, SubmissionStatus.PENDING)]
    if not earlier:
        return
    first = earlier[0]
    score = f", public score {first['public_score']:.4f}" if first.get("public_score") is not None else ""
    exc = AlreadySubmittedError(
        f"this kernel content was already submitted: attempt #{first['id']} (submission {first['submission_ref']}, "
        f"{first['status']}{score})", hint="nothing was pushed; `kit submit --force` submits it again")
    ledger.update_submission(row_id, status=SubmissionStatus.REFUSED, error=str(exc))
    raise exc
