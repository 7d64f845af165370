"""`kit run-local`: rehearse the inference notebook with papermill on a simulated Kaggle input tree.

The notebook runs exactly as it will on Kaggle: only its parameters differ. A temp folder plays
`/kaggle/input` (competition files under `competitions/<slug>/`, the model, adapter and wheels as symlinked
"datasets"), the output folder plays `/kaggle/working` (the notebook's cwd), and the hub is offline. The
labels file never enters the input tree; it is used afterwards, here, to score the submission.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kit.config import KitConfig, override, write_json
from kit.errors import ConfigError, InputError
from kit.recovery.guard import HIDDEN_ROWS

LABELS_FILE = "test_labels.csv"
MODEL_LINK, ADAPTER_LINK, WHEELS_LINK, REWRITER_LINK = "kit-model", "kit-adapter", "kit-wheels", "kit-rewriter"


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
    rewriter: str | Path | None = None,
) -> RunLocalResult:
    """Execute notebooks/infer.ipynb against a simulated input tree; outputs, report and score in `out`."""
    from kit.assets import default_model_path, mini_competition_dir
    from kit.notebooks import execute, template_path

    infer = override(cfg.infer, template=template, budget_seconds=budget, margin_seconds=margin,
                     batch_size=batch_size, max_new_tokens=max_new_tokens, workers=workers)
    warnings: list[str] = []
    if budget is not None and margin is None and infer.margin_seconds >= budget / 2:
        # A short rehearsal budget with the 30-minute Kaggle margin would leave no time at all.
        infer = override(infer, margin_seconds=int(budget // 10))
        warnings.append(f"margin lowered to {infer.margin_seconds}s for the {budget}s rehearsal budget")
    if infer.margin_seconds >= infer.budget_seconds:
        raise ConfigError(f"margin ({infer.margin_seconds}s) leaves nothing of the budget ({infer.budget_seconds}s)")
    data_dir = Path(data) if data else mini_competition_dir()
    if not (data_dir / "test.csv").is_file():
        raise InputError(f"{data_dir}: no test.csv", hint="--data must be a folder in the competition's format")
    model_dir = Path(model or infer.base_model_path or default_model_path())
    adapter_dir = Path(adapter or infer.adapter_path) if (adapter or infer.adapter_path) else None
    rewriter_dir = Path(rewriter) if rewriter else None  # None: the kernel re-scores with the embedded model
    for what, path in (("model", model_dir), ("adapter", adapter_dir), ("wheels", wheels), ("rewriter", rewriter)):
        if path is not None and not Path(path).exists():
            raise InputError(f"{what} folder not found: {path}")
    out_dir = Path(out or "run-local").resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("submission.csv", "timing_report.json"):
        (out_dir / stale).unlink(missing_ok=True)

    slug = cfg.competition.slug
    tree = Path(tempfile.mkdtemp(prefix="kit-input-"))
    started = time.time()
    try:
        input_dir = _layout(tree, data_dir, slug, model_dir, adapter_dir, Path(wheels) if wheels else None)
        if rewriter_dir is not None:
            (input_dir / REWRITER_LINK).symlink_to(rewriter_dir.resolve(), target_is_directory=True)
        params = {
            "template": infer.template, "input_dir": str(input_dir), "competition": slug,
            "model_dir": MODEL_LINK, "adapter_dir": ADAPTER_LINK if adapter_dir else "",
            "rewriter_dir": REWRITER_LINK if rewriter_dir else "",
            "wheels_dir": WHEELS_LINK if wheels else "", "budget_seconds": infer.budget_seconds,
            "margin_seconds": infer.margin_seconds, "batch_size": infer.batch_size,
            "max_new_tokens": infer.max_new_tokens, "max_field_tokens": infer.max_field_tokens,
            "mean_prompt": cfg.mean_prompt.text, "rows": int(rows or 0), "workers": infer.workers,
            "load_in_4bit": infer.load_in_4bit, "merge_adapter": infer.merge_adapter,
        }
        config_path = write_json(out_dir / "run_config.json", {
            "params": params, "data_dir": str(data_dir), "model": str(model_dir),
            "adapter": str(adapter_dir) if adapter_dir else None, "wheels": str(wheels) if wheels else None,
            "kit_config": cfg.to_dict(),
        })
        notebook = execute(template_path("infer"), out_dir / "infer.ipynb", params, cwd=out_dir,
                           env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
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
    return result


def _layout(tree: Path, data_dir: Path, slug: str, model: Path, adapter: Path | None,
            wheels: Path | None) -> Path:
    """Build `<tree>/input` like Kaggle's /kaggle/input (symlinks, nothing copied); returns it."""
    input_dir = tree / "input"
    comp = input_dir / "competitions" / slug
    comp.mkdir(parents=True)
    for src in sorted(data_dir.iterdir()):
        if src.is_file() and src.name != LABELS_FILE:  # the kernel never sees the labels
            (comp / src.name).symlink_to(src.resolve())
    (input_dir / MODEL_LINK).symlink_to(model.resolve(), target_is_directory=True)
    if adapter is not None:
        (input_dir / ADAPTER_LINK).symlink_to(adapter.resolve(), target_is_directory=True)
    if wheels is not None:
        (input_dir / WHEELS_LINK).symlink_to(wheels.resolve(), target_is_directory=True)
    return input_dir


def local_score(submission: Path, labels_csv: Path, embedder: str | None = None) -> dict[str, Any]:
    """Score the submission against the labels of the ids it holds (a --rows run covers only some)."""
    from kit.recovery.metric import load_embedder, score
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
    lines = [f"submission: {result.submission}", f"notebook:   {result.notebook}",
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
        lines.append(f"local score: {s['mean']:.4f} (95% CI {s['ci_low']:.4f}-{s['ci_high']:.4f}, n={s['n']}, "
                     f"embedder {s['embedder']})")
        if s.get("suffix_removed"):
            from kit.recovery.metric import describe_suffix

            lines.append(f"note: {describe_suffix(s)}")
    return "\n".join(lines)
