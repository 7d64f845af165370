"""`kit run-local`: rehearse the inference notebook as a Kaggle kernel on this machine.

The notebook runs in the sandbox (kit.kaggle.emulator.runner): the competition data, base model, adapter and
wheels are mounted at /kaggle/input in the chosen layout (a model under models/<owner>/<model>/..., datasets under
datasets/<owner>/<slug>), the output folder is /kaggle/working, there is no network, and the kit is importable
only after the notebook installs it from the wheels (the sandbox's kit-only bundle unless --wheels is given).
The labels file never enters the input tree; it is used afterwards, here, to score the submission.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kit.artefacts import RunConfig
from kit.config import KitConfig, override
from kit.errors import InputError
from kit.packs.prompt_recovery.guard import HIDDEN_ROWS

LABELS_FILE = "test_labels.csv"
# How the local folders are attached: refs in the sandbox account, mounted where Kaggle mounts such sources.
LOCAL_SLUGS = {"model": "kit-base-model/transformers/default/1", "adapter": "kit-adapter", "wheels": "kit-wheels",
               "rewriter": "kit-rewriter/transformers/default/1"}


@dataclass
class RunLocalResult:
    """Where the outputs went and what the run measured."""

    out_dir: str
    submission: str
    notebook: str
    report_path: str
    config_path: str
    rows: int
    fallback_rows: int
    rows_per_second: float | None
    seconds_per_row: float | None
    projected_seconds: float | None
    kaggle_usable_seconds: float
    fits_budget: bool | None
    deadline_hit: bool
    wall_seconds: float
    score: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    content_key: str | None = None
    experiment_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for --json."""
        return asdict(self)


def run_local(
    cfg: KitConfig,
    *,
    template: str | None = None,
    data: str | Path | None = None,
    model: str | Path | None = None,
    adapter: str | Path | None = None,
    wheels: str | Path | None = None,
    budget: int | None = None,
    margin: int | None = None,
    rows: int = 0,
    batch_size: int | None = None,
    max_new_tokens: int | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
    embedder: str | None = None,
    layout: str | None = None,
    progress: bool = False,
    ledger: Any = None,
    rewriter: str | Path | None = None,
) -> RunLocalResult:
    """Execute notebooks/infer.ipynb as a sandbox kernel; outputs, report and score in `out` (default: a new
    run-local/<UTC time>-<template> folder); the run is recorded as a local experiment.

    `progress` streams the kernel's own progress lines (rows done, rows/s, time left) to stderr."""
    from kit import experiments
    from kit.assets import default_model_path, mini_competition_dir
    from kit.kernel_params import validate
    from kit.notebooks import template_path
    from kit.packs.prompt_recovery.inputs import check_test_folder
    from kit.packs.prompt_recovery.templates import get_template

    infer = override(cfg.infer, template=template, budget_seconds=budget, margin_seconds=margin,
                     batch_size=batch_size, max_new_tokens=max_new_tokens, workers=workers)
    warnings: list[str] = []
    if budget is not None and margin is None and infer.margin_seconds >= budget / 2:
        # A short rehearsal budget with the 30-minute Kaggle margin would leave no time at all.
        infer = override(infer, margin_seconds=int(budget // 10))
        warnings.append(f"margin lowered to {infer.margin_seconds}s for the {budget}s rehearsal budget")
    data_dir = Path(data) if data else mini_competition_dir()
    check_test_folder(data_dir, LABELS_FILE)  # the user's own files, named, before any kernel starts
    tpl = get_template(infer.template)  # a model-free template (mean) mounts no model; only re-scoring a rewriter
    model_dir = Path(model or infer.base_model_path or default_model_path()) if tpl.primes else None
    adapter_dir = Path(adapter or infer.adapter_path) if (adapter or infer.adapter_path) and tpl.primes else None
    if (adapter or infer.adapter_path) and not tpl.primes:
        warnings.append(f"template {tpl.name} loads no model: the adapter is not mounted")
    rewriter_dir = Path(rewriter or default_model_path()) if tpl.rescore else None
    for what, path in (("model", model_dir), ("adapter", adapter_dir), ("wheels", wheels), ("rewriter", rewriter)):
        if path is not None and not Path(path).exists():
            raise InputError(f"{what} folder not found: {path}")
    from kit.kaggle.inputs import check_layout

    layout = check_layout(layout or cfg.kaggle.sandbox_input_layout, "[kaggle] sandbox_input_layout")
    folders = {"model": model_dir, "adapter": adapter_dir, "rewriter": rewriter_dir,
               "wheels": Path(wheels) if wheels else None}
    params = {
        "template": infer.template, "sources": _refs(cfg, folders), "budget_seconds": infer.budget_seconds,
        "margin_seconds": infer.margin_seconds, "batch_size": infer.batch_size,
        "max_new_tokens": infer.max_new_tokens, "max_field_tokens": infer.max_field_tokens,
        "mean_prompt": cfg.mean_prompt.text, "rows": int(rows or 0), "workers": infer.workers,
        "load_in_4bit": infer.load_in_4bit, "merge_adapter": infer.merge_adapter,
    }
    source = template_path("infer")
    validate(params, source)  # the same check build-submission makes, before anything is written
    out_dir = Path(out or experiments.default_out(infer.template)).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("submission.csv", "timing_report.json"):
        (out_dir / stale).unlink(missing_ok=True)

    slug = cfg.competition.slug
    tree = Path(tempfile.mkdtemp(prefix="kit-run-"))
    started = time.time()
    try:
        mounts = _attach(tree, data_dir, slug, params["sources"], folders, layout)
        config_path = RunConfig(
            params=params, data_dir=str(data_dir), model=str(model_dir) if model_dir else None,
            adapter=str(adapter_dir) if adapter_dir else None,
            wheels=str(folders["wheels"]) if folders["wheels"] else None, layout=layout, kit_config=cfg.to_dict(),
        ).save(out_dir)
        notebook, notice = _execute(tree / "run", params, mounts, out_dir, cfg.kaggle.kernel_timeout_seconds,
                                    progress)
        if notice:
            warnings.insert(0, notice)
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    report_path = out_dir / "timing_report.json"
    report = json.loads(report_path.read_text(encoding="utf-8"))
    usable = float(cfg.infer.budget_seconds - cfg.infer.margin_seconds)
    projected = report.get("projected_seconds")
    fits = None if projected is None else projected <= usable
    if fits is False:
        warnings.append(f"projected {projected / 3600:.2f} h for {HIDDEN_ROWS} rows does not fit the "
                        f"{usable / 3600:.2f} h usable on Kaggle (at this machine's speed)")
    result = RunLocalResult(
        out_dir=str(out_dir), submission=str(out_dir / "submission.csv"), notebook=str(notebook),
        report_path=str(report_path), config_path=str(config_path), rows=report["rows"],
        fallback_rows=report["fallback_rows"], rows_per_second=report.get("rows_per_second"),
        seconds_per_row=report.get("seconds_per_row"), projected_seconds=projected,
        kaggle_usable_seconds=usable, fits_budget=fits, deadline_hit=bool(report.get("deadline_hit")),
        wall_seconds=round(time.time() - started, 2), warnings=warnings,
    )
    labels = data_dir / LABELS_FILE
    if labels.is_file():
        result.score = local_score(out_dir / "submission.csv", labels, embedder or cfg.score.embedder or None)
    key = experiments.content_key(
        experiments.code_hash(source), params, needs_model=bool(tpl.primes),
        base_model=experiments.base_identity(model_dir), adapter_hash=experiments.adapter_hash(adapter_dir))
    result.content_key = key
    result.experiment_id = experiments.record_run_local(
        result, template=infer.template, params=params, model=model_dir, adapter=adapter_dir,
        data_files=[data_dir / "test.csv", labels], key=key, ledger=ledger)
    return result


def _refs(cfg: KitConfig, folders: dict[str, Path | None]) -> dict[str, str]:
    """{name: ref} the notebook resolves: the competition slug and the local folders as sandbox-account sources
    (no wheels given means the sandbox's kit-only bundle, attached all the same)."""
    from kit.kaggle.sandbox import DEFAULT_USER

    owner = cfg.kaggle.username or DEFAULT_USER
    refs = {"competition": cfg.competition.slug}
    for name, folder in folders.items():
        if folder is not None or name == "wheels":
            refs[name] = f"{owner}/{LOCAL_SLUGS[name]}"
    return refs


def _attach(tree: Path, data_dir: Path, slug: str, sources: dict[str, str], folders: dict[str, Path | None],
            layout: str) -> dict[str, Path]:
    """{path under /kaggle/input: folder} for the local sources named in `sources`.

    The competition folder is a copy without the labels (the kernel never sees them); no wheels given means
    the sandbox's kit-only bundle."""
    from kit.kaggle.inputs import mount_path
    from kit.wheels import sandbox_bundle

    comp = tree / "competition"
    comp.mkdir(parents=True)
    for src in sorted(data_dir.iterdir()):
        if src.is_file() and src.name != LABELS_FILE:
            shutil.copyfile(src, comp / src.name)
    folders = {**folders, "wheels": folders.get("wheels") or sandbox_bundle()}
    mounts = {mount_path(slug, layout): comp}
    for name, folder in folders.items():
        if folder is not None:
            mounts[mount_path(sources[name], layout)] = Path(folder)
    return mounts


def _execute(run_dir: Path, params: dict[str, Any], mounts: dict[str, Path], out_dir: Path,
             timeout: float, progress: bool = False) -> tuple[Path, str]:
    """Run the inference notebook as a sandbox kernel writing into `out_dir`; (executed notebook, notice)."""
    from kit.errors import NotebookError
    from kit.kaggle.emulator import runner
    from kit.notebooks import template_path

    runner.prepare_run(run_dir, text=template_path("infer").read_text(encoding="utf-8"), kernel_type="notebook",
                       mounts=mounts, timeout=timeout, rerun=False, params=params, working=out_dir)
    result = runner.execute_run(run_dir, stream=progress)
    src = run_dir / "src"
    notice = json.loads((src / "run.json").read_text()).get("notice", "")
    (out_dir / "kernel_log.txt").write_text("".join(e["data"] for e in json.loads(runner.run_log(run_dir) or "[]")))
    notebook = out_dir / "infer.ipynb"
    for name, dst in (("executed.ipynb", notebook), ("executed.log", out_dir / "infer.log")):
        if (src / name).is_file():  # the executed notebook, and the kernel process's own chatter
            shutil.copyfile(src / name, dst)
    if result["status"] != "COMPLETE":
        raise NotebookError(f"infer.ipynb: {result['failureMessage']}",
                            hint=f"kernel log: {out_dir / 'kernel_log.txt'}")
    return notebook, notice


def local_score(submission: Path, labels_csv: Path, embedder: str | None = None) -> dict[str, Any]:
    """Score the submission against the labels of the ids it holds (a --rows run covers only some)."""
    from kit.packs.prompt_recovery.metric import load_embedder, score
    from kit.tables import read_rows

    preds = {r["id"]: r["rewrite_prompt"] for r in read_rows(submission, required=("id", "rewrite_prompt"))}
    labels = {r["id"]: r["rewrite_prompt"] for r in read_rows(labels_csv, required=("id", "rewrite_prompt"))}
    missing = [i for i in preds if i not in labels]
    if missing:
        raise InputError(f"{labels_csv}: no label for {len(missing)} submission id(s), first: {missing[0]!r}")
    report = score(preds, {i: labels[i] for i in preds}, load_embedder(embedder))
    return report.to_dict()


def describe(result: RunLocalResult) -> str:
    """Human-readable summary lines for the CLI."""
    lines = [f"local experiment #{result.experiment_id} in {result.out_dir}",
             f"submission: {result.submission}", f"notebook:   {result.notebook}",
             f"report:     {result.report_path}", f"config:     {result.config_path}",
             f"rows: {result.rows} ({result.fallback_rows} on the fallback), wall {result.wall_seconds:.1f}s"]
    if result.rows_per_second is not None:
        lines.append(f"rows/s: {result.rows_per_second:.2f} (per prime), {result.seconds_per_row:.3f} s per row")
    if result.projected_seconds is not None:
        verdict = "fits" if result.fits_budget else "DOES NOT FIT"
        lines.append(f"projected for {HIDDEN_ROWS} rows: {result.projected_seconds / 3600:.2f} h, {verdict} the "
                     f"{result.kaggle_usable_seconds / 3600:.2f} h usable of the Kaggle budget")
    if result.deadline_hit:
        lines.append("the time guard stopped generation early (deadline)")
    for warning in result.warnings:
        lines.append(f"warning: {warning}")
    if result.score is not None:
        s = result.score
        lines.append(f"local score: {s['mean']:.4f} (95% CI [{s['ci_low']:.4f}, {s['ci_high']:.4f}], n={s['n']}, "
                     f"embedder {s['embedder']})")
        if s.get("suffix_removed"):
            from kit.packs.prompt_recovery.metric import describe_suffix

            lines.append(f"note: {describe_suffix(s)}")
    return "\n".join(lines)
