"""`kit build-submission`: render the inference notebook for Kaggle and write its kernel-metadata.json.

The rendered kernel is bound to what the ledger knows was pushed: the adapter and wheels dataset versions, the
base model source. Everything is validated before anything is sent; the resolved parameters and provenance are
saved beside the notebook as `kit_kernel.json`, which `kit submit` copies into the ledger.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from kit import __version__
from kit.artefacts import KernelInfo
from kit.config import KitConfig, write_json
from kit.errors import ConfigError, InputError
from kit.kaggle import kernel_metadata as km
from kit.kaggle import metadata
from kit.kaggle.inputs import check_sources
from kit.kaggle.sandbox import sandbox_mode

NOTEBOOK_NAME = "infer"
DEFAULT_COLUMNS = ("id", "rewrite_prompt")


def git_state(cwd: Path | None = None, exclude: Path | None = None) -> tuple[str | None, bool | None]:
    """(HEAD sha, dirty) of the git work tree around `cwd`; (None, None) outside a repo or without git.

    `exclude` (the kernel folder the kit writes) does not count as a change."""
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30)

    try:
        head = git("rev-parse", "HEAD")
    except (OSError, subprocess.TimeoutExpired):
        return None, None
    if head.returncode != 0:
        return None, None
    spec = ["--", "."]
    if exclude is not None:
        try:
            rel = Path(os.path.relpath(exclude.resolve(), (cwd or Path.cwd()).resolve()))
            if not str(rel).startswith(".."):
                spec.append(f":(exclude){rel.as_posix()}")
        except ValueError:
            pass
    status = git("status", "--porcelain", *spec)
    return head.stdout.strip(), bool(status.stdout.strip())


def submission_columns() -> list[str]:
    """The competition's submission header, from the bundled sample_submission.csv."""
    from kit.assets import sample_data_dir

    path = sample_data_dir() / "sample_submission.csv"
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), None)
        if header:
            return header
    return list(DEFAULT_COLUMNS)


def _template(name: str) -> tuple[str, bool, bool]:
    """(name, needs a model, needs the rewriter) for a registered template."""
    from kit.packs.prompt_recovery.templates import get_template

    tpl = get_template(name)
    return tpl.name, bool(tpl.primes), tpl.rescore


def kernel_hash(folder: Path, meta: dict[str, Any]) -> str:
    """sha256 over the notebook's cell sources, its kernelspec and the metadata: what Kaggle would run.

    Papermill's own volatile metadata (paths, timestamps) is left out, so rebuilding the same kernel gives the
    same hash and `kit submit` continues its pending attempt instead of starting another."""
    nb = json.loads((folder / meta["code_file"]).read_text(encoding="utf-8"))
    cells = [("".join(c.get("source", "")) if isinstance(c.get("source"), list) else c.get("source", ""))
             for c in nb.get("cells", [])]
    body = {"cells": cells, "kernelspec": nb.get("metadata", {}).get("kernelspec"), "meta": meta}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


SANDBOX_MODEL = "kit-default-model/transformers/default/1"  # the default model's ref in the sandbox account


def _model_source(what: str, configured: str, owner: str, sandbox: bool, pins: dict[str, Any],
                  notes: list[str]) -> str:
    """The ref of a model source the kernel mounts (`[kaggle] base_model` or `rewriter_model`): as configured, or
    in the sandbox the kit's default model, published as a Kaggle Model the way a real one is mounted."""
    if not configured and sandbox:
        from kit.assets import default_model_path
        from kit.kaggle.sandbox import publish_model

        configured = f"{owner}/{SANDBOX_MODEL}"
        publish_model(configured, default_model_path())
        if what == "base_model":
            pins["base_identity"] = str(default_model_path())  # what run-local's content key sees
        notes.append(f"no [kaggle] {what}: the sandbox kernel mounts the kit's default model as {configured}")
    elif not configured:
        raise ConfigError(f"[kaggle] {what} is empty: a Kaggle kernel needs it mounted",
                          hint="set it to a dataset 'owner/slug' or a model 'owner/model/framework/variation/N'")
    km.source_kind(configured)  # a dataset or a model instance version, nothing else
    pins[what] = configured
    return configured


def _sources(config: KitConfig, owner: str, sandbox: bool, needs_model: bool, ledger: Any,
             needs_rewriter: bool = False) -> tuple[dict[str, Any], list[str], list[str], list[str]]:
    """The kernel's {name: ref} sources (competition, base model, rewriter, adapter, wheels), dataset refs, model
    refs, notes.

    Datasets are pinned `owner/slug/N` to the version the ledger recorded. Every ref is validated here, before
    anything is sent."""
    refs: dict[str, str] = {"competition": config.competition.slug}
    pins: dict[str, Any] = {}
    notes: list[str] = []
    if needs_model:
        refs["model"] = _model_source("base_model", config.kaggle.base_model, owner, sandbox, pins, notes)
    if needs_rewriter:
        refs["rewriter"] = _model_source("rewriter_model", config.kaggle.rewriter_model, owner, sandbox, pins,
                                         notes)
    if needs_model and pins.get("base_identity") and config.infer.adapter_path:
        from kit.modelsig import check_adapter_base  # the mounted base is a local folder: check it now

        check_adapter_base(config.infer.adapter_path, pins["base_identity"], refs["model"])
    for key, slug in (("adapter", config.kaggle.adapter_dataset), ("wheels", config.kaggle.wheels_dataset)):
        ref = f"{owner}/{metadata.check_slug(slug)}"
        rec = ledger.latest_dataset_version(ref, sandbox=sandbox)
        pins[key] = {"ref": ref, "version": rec["version"] if rec else None,
                     "content_hash": rec["content_hash"] if rec else None}
        if key == "adapter" and not needs_model:
            continue
        if rec is None:
            notes.append(f"no pushed {key} dataset {ref} in the ledger: the kernel runs without it")
            continue
        refs[key] = f"{ref}/{rec['version']}" if rec.get("version") else ref
    parsed = check_sources(refs)
    datasets = [r.text for n, r in parsed.items() if r.kind == "dataset"]
    models = [r.text for n, r in parsed.items() if r.kind == "model"]
    return {"sources": refs, "pins": pins}, datasets, models, notes


def _owner(config: KitConfig, sandbox: bool) -> str:
    """kit.toml's username; in the sandbox without one, the sandbox account (as the sandbox client uses)."""
    if config.kaggle.username or not sandbox:
        return config.kaggle.username
    from kit.kaggle.sandbox import DEFAULT_USER

    return DEFAULT_USER


def build_submission(config: KitConfig, *, template: str | None = None, out: Path = Path("kernel"),
                     sandbox: bool | None = None, username: str | None = None, notebook: Path | None = None,
                     ledger: Any = None) -> dict[str, Any]:
    """Render the inference notebook (prepare only) into `out` with kernel-metadata.json and kit_kernel.json.

    Returns the kit_kernel.json content plus `folder`, `notebook`, `metadata` and `notes`."""
    from kit import notebooks
    from kit.ledger import Ledger

    sandbox = sandbox_mode(sandbox)
    owner = km.check_owner(username or _owner(config, sandbox))
    inf = config.infer
    name, needs_model, needs_rewriter = _template(template or inf.template)
    src = notebook or notebooks.template_path(NOTEBOOK_NAME)
    led = ledger or Ledger()
    try:
        found, datasets, models, notes = _sources(config, owner, sandbox, needs_model, led, needs_rewriter)
        return _write(config, led, src, out, owner, name, needs_model, sandbox, found, datasets, models, notes)
    finally:
        if ledger is None:
            led.close()


def _write(config: KitConfig, led: Any, src: Path, out: Path, owner: str, name: str, needs_model: bool,
           sandbox: bool, found: dict[str, Any], datasets: list[str], models: list[str],
           notes: list[str]) -> dict[str, Any]:
    """Validate the parameters (as run-local does), then write the notebook, metadata and kit_kernel.json."""
    from kit import experiments, notebooks
    from kit.kernel_params import validate

    kg, inf = config.kaggle, config.infer
    pins = found.pop("pins")
    wanted = {"template": name, "budget_seconds": inf.budget_seconds, "margin_seconds": inf.margin_seconds,
              "batch_size": inf.batch_size, "max_new_tokens": inf.max_new_tokens,
              "max_field_tokens": inf.max_field_tokens, "mean_prompt": config.mean_prompt.text,
              "load_in_4bit": inf.load_in_4bit, "merge_adapter": inf.merge_adapter, **found}
    known = notebooks.parameters(src)
    if "template" not in known:
        raise InputError(f"{src}: no 'template' parameter in its parameters cell")
    params = validate({k: v for k, v in wanted.items() if k in known}, src)  # before anything is written
    adapter_pin = pins.get("adapter") or {}
    base = pins.get("base_identity") or pins.get("base_model")
    key = experiments.content_key(experiments.code_hash(src), params, needs_model=needs_model,
                                  base_model=experiments.base_identity(base),
                                  adapter_hash=adapter_pin.get("content_hash") if adapter_pin.get("version") else None)
    measured = led.local_experiment_of(key)  # the local run of exactly this content, if there was one
    code_file = f"{NOTEBOOK_NAME}.ipynb"
    meta = km.build(owner=owner, slug=kg.kernel_slug, title=kg.kernel_title, code_file=code_file,
                    accelerator=kg.accelerator, competition=config.competition.slug, datasets=datasets, models=models,
                    pinning=kg.docker_image_pinning_type)
    out.mkdir(parents=True, exist_ok=True)
    dst = notebooks.render(src, out / code_file, params)
    km.check_source_size(dst)
    write_json(out / km.METADATA_NAME, meta)
    sha, dirty = git_state(exclude=out)
    info = KernelInfo(
        template=name, parameters=params, adapter=pins.get("adapter"), wheels=pins.get("wheels"),
        base_model=pins.get("base_model"), rewriter_model=pins.get("rewriter_model"), git_sha=sha,
        git_dirty=dirty, kit_version=__version__,
        notebook_sha256=hashlib.sha256(dst.read_bytes()).hexdigest(), kernel_hash=kernel_hash(out, meta),
        kernel_ref=meta["id"], competition=config.competition.slug, sandbox=sandbox,
        submission_file=config.competition.submission_file, submission_columns=submission_columns(),
        session_timeout=kg.kernel_timeout_seconds, content_key=key,
        sources=params.get("sources", {}), docker_image_pinning_type=meta["docker_image_pinning_type"],
        local_score=measured["score"] if measured else None,
        local_experiment=measured["id"] if measured else None,
    )
    if measured is None:
        notes.append("no `kit run-local` of this exact content in the ledger: the submission will have no local score")
    info.save(out)
    return {**info.to_dict(), "folder": str(out), "notebook": str(dst), "metadata": meta, "notes": notes}


def load_kernel(folder: Path) -> tuple[dict[str, Any], KernelInfo, str]:
    """(kernel-metadata, kit_kernel.json, current kernel hash) of a built kernel folder, validated."""
    meta = km.read(folder)
    if not (folder / KernelInfo.FILE_NAME).is_file():
        raise InputError(f"{folder} has no {KernelInfo.FILE_NAME}", hint="build the kernel with `kit build-submission`")
    return meta, KernelInfo.load(folder), kernel_hash(folder, meta)


def check_submission_file(path: Path, columns: list[str], expected_ids: set[str] | None = None) -> int:
    """SubmissionError unless `path` is a CSV with `columns`, at least one row, unique non-empty ids and
    no blank value; with `expected_ids`, every one of them must be present. Returns the row count."""
    from kit.errors import SubmissionError

    def bad(why: str) -> SubmissionError:
        return SubmissionError(f"kernel output {path.name}: {why}", hint="nothing was submitted")

    if not path.is_file():
        raise bad("missing from the kernel output")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            rows = list(reader)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise bad(f"does not parse as CSV: {exc}") from None
    missing = [c for c in columns if c not in header]
    if missing:
        raise bad(f"missing column(s) {', '.join(missing)} (header: {', '.join(header) or 'none'})")
    if not rows:
        raise bad("has no rows")
    key, values = columns[0], columns[1:]
    ids = [(r.get(key) or "").strip() for r in rows]
    if any(not i for i in ids):
        raise bad(f"{sum(not i for i in ids)} row(s) have an empty {key}")
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        raise bad(f"duplicate {key}(s): {', '.join(dupes[:3])}")
    for col in values:
        blank = [i for i, r in zip(ids, rows, strict=True) if not (r.get(col) or "").strip()]
        if blank:
            raise bad(f"{len(blank)} row(s) have a blank {col} (first {key} {blank[0]!r})")
    if expected_ids is not None and set(ids) != expected_ids:
        raise bad(f"{len(expected_ids - set(ids))} expected {key}(s) missing, {len(set(ids) - expected_ids)} extra")
    return len(rows)
