"""`kit build-submission`: render the competition pack's kernel notebook for Kaggle and write its
kernel-metadata.json.

The rendered kernel is bound to what the ledger knows was pushed: the adapter and wheels dataset versions, the
base model source. Everything is validated before anything is sent; the resolved parameters and provenance are
saved beside the notebook as `kit_kernel.json`, which `kit submit` copies into the ledger.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit import __version__
from kit.artefacts import DatasetStatus, KernelInfo
from kit.config import KitConfig
from kit.errors import ConfigError, InputError
from kit.files import write_json
from kit.git import git_state
from kit.kaggle import kernel_metadata as km
from kit.kaggle import metadata
from kit.kaggle.sandbox import sandbox_mode
from kit.kernel.inputs import check_sources
from kit.pack import Recipe, get_recipe


def kernel_hash(folder: Path, meta: dict[str, Any]) -> str:
    """sha256 over the notebook (its injected values included) and the metadata: what Kaggle would run, so
    rebuilding the same kernel gives the same hash and `kit submit` continues its pending attempt instead of
    starting another."""
    from kit.chain import experiments

    body = {"code": experiments.code_hash(folder / meta["code_file"], injected=True), "meta": meta}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


SANDBOX_MODEL = "kit-default-model/transformers/default/1"  # the default model's ref in the sandbox account


def _model_source(what: str, configured: str, owner: str, sandbox: bool, pins: dict[str, Any],
                  notes: list[str]) -> str:
    """The ref of a model source the kernel mounts (`[kaggle] base_model` or a recipe's model source): as
    configured, or in the sandbox the kit's default model, published as a Kaggle Model the way a real one is mounted."""
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


@dataclass(frozen=True)
class Unpushed:
    """A dataset the kernel cannot run without that the ledger has no push of (in this mode)."""

    name: str     # the source name: "wheels", "adapter"
    ref: str      # owner/slug
    why: str      # what needs it, for the error line
    command: str  # the `kit ...` command that pushes it


def taken_sources(params: type) -> set[str]:
    """The source names a pack's kernel takes: the keys of its parameters' `sources` default. A kernel that takes
    "wheels" installs the kit from that dataset (it cannot start without it); one that does not (a kernel importing
    nothing of the kit) is never given it."""
    from kit.kernel.params import defaults

    return set(defaults(params).get("sources") or {})


def latest_push(ledger: Any, ref: str, sandbox: bool) -> dict[str, Any] | None:
    """The newest recorded push of dataset `ref` in this mode that a kernel can mount: READY, or PENDING (pushed
    without waiting; `kit submit` waits for it to be READY before pushing the kernel). None: never pushed."""
    usable = (DatasetStatus.READY, DatasetStatus.PENDING)
    rows = [r for r in ledger.datasets() if r["ref"] == ref and bool(r["sandbox"]) == sandbox and r["status"] in usable]
    return rows[-1] if rows else None


def _push_command(name: str, config: KitConfig, sandbox: bool) -> str:
    """The command that pushes dataset source `name` in this mode."""
    if name == "wheels":  # the sandbox's stand-in image holds every dependency: the kit's own wheel is enough
        return "kit wheels --kit-only --push --sandbox" if sandbox else "kit wheels --push"
    return f"kit push-adapter {shlex.quote(config.infer.adapter_path)}" + (" --sandbox" if sandbox else "")


def needed_datasets(config: KitConfig, recipe: Recipe, taken: set[str]) -> dict[str, str]:
    """{source name: why} of the datasets the kernel cannot run without: the wheels whenever it takes them, the
    adapter when the recipe loads a model and `[infer] adapter_path` names one."""
    needed = {"wheels": "the kernel installs the kit from it"} if "wheels" in taken else {}
    if "adapter" in taken and recipe.needs_model and config.infer.adapter_path:
        needed["adapter"] = f"[infer] adapter_path = {config.infer.adapter_path!r} in {config.path or 'the config'}"
    return needed


def _dataset_sources(config: KitConfig, owner: str, sandbox: bool, recipe: Recipe, taken: set[str], ledger: Any,
                     refs: dict[str, str], pins: dict[str, Any], notes: list[str]) -> list[Unpushed]:
    """Pin the adapter and wheels datasets the kernel mounts to the versions the ledger recorded (into `refs` and
    `pins`); returns the ones it needs (`needed_datasets`) that were never pushed. An adapter goes only with a
    recipe that loads a model; one pushed without `[infer] adapter_path` set is mounted all the same."""
    where = "the sandbox" if sandbox else "Kaggle"
    missing: list[Unpushed] = []
    needed = needed_datasets(config, recipe, taken)
    for key, slug in (("adapter", config.kaggle.adapter_dataset), ("wheels", config.kaggle.wheels_dataset)):
        if key not in taken or (key == "adapter" and not recipe.needs_model):
            continue  # the kernel takes no such source, or the recipe loads no model to put an adapter on
        ref = f"{owner}/{metadata.check_slug(slug)}"
        rec = latest_push(ledger, ref, sandbox)
        if rec is None:
            if key in needed:
                missing.append(Unpushed(key, ref, needed[key], _push_command(key, config, sandbox)))
            else:
                notes.append(f"no {key} dataset {ref} was pushed to {where}: the kernel runs without one")
            continue
        pins[key] = {"ref": ref, "version": rec["version"], "content_hash": rec["content_hash"]}
        refs[key] = f"{ref}/{rec['version']}" if rec.get("version") else ref
        if rec["status"] == DatasetStatus.PENDING:
            notes.append(f"{key} dataset {refs[key]} was pushed without waiting: `kit submit` waits until it is READY")
        if key == "adapter" and config.infer.adapter_path:
            notes.extend(_stale_adapter(Path(config.infer.adapter_path), refs[key], rec, config, sandbox))
    return missing


def _stale_adapter(folder: Path, ref: str, rec: dict[str, Any], config: KitConfig, sandbox: bool) -> list[str]:
    """A note when the local adapter folder no longer holds what the pinned version was pushed from (retrained,
    not pushed): the kernel would mount the old one. The same files the push recorded are hashed, so a push with
    `--include` compares like with like."""
    files = [Path(f) for f in json.loads(rec.get("files") or "[]")]
    if not files or not folder.is_dir():
        return []
    if all((folder / f).is_file() for f in files) and metadata.content_hash(folder, files) == rec["content_hash"]:
        return []
    return [f"{folder} has changed since {ref} was pushed from it: the kernel mounts the pushed version "
            f"(`{_push_command('adapter', config, sandbox)}`, then build again, to submit the new one)"]


def refuse_unpushed(missing: list[Unpushed], sandbox: bool) -> None:
    """InputError, one line naming every dataset the kernel needs that was never pushed and the commands that
    push them: a kernel without them dies on Kaggle after its GPU session started."""
    if not missing:
        return
    where = "the sandbox" if sandbox else "Kaggle"
    what = "; ".join(f"{m.name} dataset {m.ref} ({m.why})" for m in missing)
    run = " and ".join(f"`{m.command}`" for m in missing)
    raise InputError(f"the kernel needs datasets never pushed to {where}: {what}",
                     hint=f"run {run}, then `kit build-submission` again")


def _sources(config: KitConfig, owner: str, sandbox: bool, recipe: Recipe, taken: set[str],
             ledger: Any) -> tuple[dict[str, Any], list[str], list[str], list[str]]:
    """The kernel's {name: ref} sources (competition, base model, the recipe's further model sources, adapter,
    wheels), dataset refs, model refs, notes; the datasets it needs but lacks under "missing".

    Datasets are pinned `owner/slug/N` to the version the ledger recorded. Every ref is validated here, before
    anything is sent."""
    refs: dict[str, str] = {"competition": config.competition.slug}
    pins: dict[str, Any] = {}
    notes: list[str] = []
    needs_model = recipe.needs_model
    if needs_model:
        refs["model"] = _model_source("base_model", config.kaggle.base_model, owner, sandbox, pins, notes)
    for name in recipe.model_sources:  # each set in the one `[kaggle] model_sources` table, by the pack's name
        refs[name] = _model_source(f"model_sources.{name}", config.kaggle.model_sources.get(name, ""), owner,
                                   sandbox, pins, notes)
    if needs_model and pins.get("base_identity") and config.infer.adapter_path:
        from kit.llm.modelsig import check_adapter_base  # the mounted base is a local folder: check it now

        check_adapter_base(config.infer.adapter_path, pins["base_identity"], refs["model"])
    required = [*refs, *needed_datasets(config, recipe, taken)]  # what a kernel lacking it cannot run without
    missing = _dataset_sources(config, owner, sandbox, recipe, taken, ledger, refs, pins, notes)
    parsed = check_sources(refs)
    datasets = [r.text for n, r in parsed.items() if r.kind == "dataset"]
    models = [r.text for n, r in parsed.items() if r.kind == "model"]
    return {"sources": refs, "pins": pins, "missing": missing, "required": required}, datasets, models, notes


def _owner(config: KitConfig, sandbox: bool) -> str:
    """kit.toml's username; in the sandbox without one, the sandbox account (as the sandbox client uses)."""
    if config.kaggle.username or not sandbox:
        return config.kaggle.username
    from kit.kaggle.sandbox import DEFAULT_USER

    return DEFAULT_USER


def build_submission(config: KitConfig, *, template: str | None = None, out: Path = Path("kernel"),
                     sandbox: bool | None = None, username: str | None = None, notebook: Path | None = None,
                     ledger: Any = None) -> dict[str, Any]:
    """Render the pack's kernel notebook (prepare only) into `out` with kernel-metadata.json and kit_kernel.json.

    The pack is the one `[competition] slug` names; `template` picks one of its recipes. Returns the
    kit_kernel.json content plus `folder`, `notebook`, `metadata` and `notes`."""
    from kit.ledger import Ledger
    from kit.pack import get_pack

    sandbox = sandbox_mode(sandbox)
    owner = km.check_owner(username or _owner(config, sandbox))
    pack = get_pack(config.competition.slug)
    recipe = get_recipe(pack, template or config.infer.template)
    src = notebook or pack.kernel.notebook
    led = ledger or Ledger()
    try:
        found, datasets, models, notes = _sources(config, owner, sandbox, recipe, taken_sources(pack.kernel.params),
                                                  led)
        return _write(config, pack, led, src, out, owner, recipe, sandbox, found, datasets, models, notes)
    finally:
        if ledger is None:
            led.close()


def _write(config: KitConfig, pack: Any, led: Any, src: Path, out: Path, owner: str, recipe: Recipe,
           sandbox: bool, found: dict[str, Any], datasets: list[str], models: list[str],
           notes: list[str]) -> dict[str, Any]:
    """Validate the parameters (as run-local does), then write the notebook, metadata and kit_kernel.json."""
    from kit import notebooks
    from kit.chain import experiments
    from kit.kernel.params import content_values, from_config, validate

    kg, spec = config.kaggle, pack.submission
    pins, missing, required = found.pop("pins"), found.pop("missing"), found.pop("required")
    # the pack's params dataclass checks itself, then against the notebook: before anything is written
    named = {pack.kernel.recipe_param: recipe.name} if pack.kernel.recipe_param else {}
    made = from_config(pack.kernel.params, config, **named, **found)
    params = validate(made, src)
    adapter_pin = pins.get("adapter") or {}
    base = pins.get("base_identity") or pins.get("base_model")
    key = experiments.content_key(experiments.code_hash(src), content_values(made), needs_model=recipe.needs_model,
                                  base_model=experiments.base_identity(base),
                                  adapter_hash=adapter_pin.get("content_hash") if adapter_pin.get("version") else None)
    measured = led.local_experiment_of(key)  # the local run of exactly this content, if there was one
    code_file = pack.kernel.notebook.name
    meta = km.build(owner=owner, slug=kg.kernel_slug, title=kg.kernel_title, code_file=code_file,
                    accelerator=kg.accelerator, competition=pack.slug, datasets=datasets, models=models,
                    pinning=kg.docker_image_pinning_type)
    refuse_unpushed(missing, sandbox)  # after kit.toml's own checks (fix those first), before anything is written
    out.mkdir(parents=True, exist_ok=True)
    dst = notebooks.render(src, out / code_file, params)
    km.check_source_size(dst)
    write_json(out / km.METADATA_NAME, meta)
    sha, dirty = git_state(exclude=out)
    info = KernelInfo(
        template=recipe.name, parameters=params, adapter=pins.get("adapter"), wheels=pins.get("wheels"),
        base_model=pins.get("base_model"), models={n: pins.get(f"model_sources.{n}") for n in recipe.model_sources},
        git_sha=sha, git_dirty=dirty, kit_version=__version__,
        notebook_sha256=hashlib.sha256(dst.read_bytes()).hexdigest(), kernel_hash=kernel_hash(out, meta),
        kernel_ref=meta["id"], competition=pack.slug, sandbox=sandbox,
        submission_mechanism=spec.mechanism, submission_file=spec.file_name, submission_columns=list(spec.columns),
        session_timeout=kg.kernel_timeout_seconds, content_key=key,
        sources=params.get("sources", {}), required_sources=required,
        docker_image_pinning_type=meta["docker_image_pinning_type"],
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
