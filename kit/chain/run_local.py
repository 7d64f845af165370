"""`kit run-local`: rehearse the competition pack's kernel notebook as a Kaggle kernel on this machine.

The notebook runs in the sandbox (kit.kaggle.emulator.runner): the competition data, base model, adapter and
wheels are mounted at /kaggle/input in the chosen layout (a model under models/<owner>/<model>/..., datasets under
datasets/<owner>/<slug>), the output folder is /kaggle/working, there is no network, and the kit is importable
only after the notebook installs it from the wheels (the sandbox's kit-only bundle unless --wheels is given).
The labels file never enters the input tree; it is used afterwards, here, to score the submission.

Ctrl-C (or SIGTERM, which the CLI turns into the same interrupt) stops the kernel with every process it started
(kit.kaggle.emulator.runner) and ends in `RunInterrupted`, whose message says what the run folder keeps: the
kernel's log and notebook so far, and whether its submission file is still the kernel's first write (the fallback
a kit kernel writes before predicting) or partly predicted. An interrupted run is not recorded in the ledger.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kit.artefacts import RunConfig
from kit.config import KitConfig, override
from kit.errors import ConfigError, InputError, KitError, SubmissionError
from kit.kernel.report import REPORT_FILE

# How the local folders are attached: refs in the sandbox account, mounted where Kaggle mounts such sources
# (a recipe's further model source <name> as kit-<name>/transformers/default/1).
LOCAL_SLUGS = {"model": "kit-base-model/transformers/default/1", "adapter": "kit-adapter", "wheels": "kit-wheels"}


class RunInterrupted(KeyboardInterrupt):
    """The run was interrupted; its kernel is stopped, and `message` says what its folder keeps."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RerunFailed(SubmissionError):
    """The rehearsed scoring re-run ended with a category Kaggle would show: the run is recorded all the same."""

    def __init__(self, message: str, result: RunLocalResult) -> None:
        super().__init__(message, hint="fix it before a daily submission is spent on it")
        self.result = result


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
    hidden_rows: int  # the competition's hidden test set size, which `projected_seconds` is for
    deadline_hit: bool
    wall_seconds: float
    score: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    content_key: str | None = None
    experiment_id: int | None = None
    rerun: dict[str, Any] | None = None  # the rehearsed scoring re-run, for mechanisms that rehearse one

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
    workers: int | None = None,
    out: str | Path | None = None,
    layout: str | None = None,
    progress: bool = False,
    ledger: Any = None,
    sources: Mapping[str, str | Path] | None = None,
    require_record: bool = True,
    gateway_startup_limit: float | None = None,
) -> RunLocalResult:
    """Execute the pack's kernel notebook as a sandbox kernel; outputs, report and score in `out` (default: a new
    run-local/<UTC time>-<template> folder); the run is recorded as a local experiment.

    `progress` streams the kernel's own progress lines (rows done, rows/s, time left) to stderr. `sources` maps a
    recipe's further model sources (`Recipe.model_sources`) to local folders; one not given is the embedded
    instruct model. A pack's own knobs (its [infer] keys, its scorer) come in `cfg` (`kit.config.apply_settings`:
    `--set`). The adapter folder gets push-adapter's checks first
    (`check_adapter`; `require_record` off rehearses one without its kit_adapter.json). Ctrl-C during the kernel
    stops it whole and raises `RunInterrupted`.

    A competition whose mechanism rehearses the scoring re-run (inference_server) gets a second run of the
    notebook as Kaggle's rerun makes it: the rerun flag set, blocked in serve(), the gateway beside it in a container
    of its own (`gateway_startup_limit`: its wait for the server, default Kaggle's). Its outcome (the category
    Kaggle would show, the time to the first answer, each call's seconds) is `result.rerun`; a failed rerun raises
    `RerunFailed` after the run is recorded, and the score is then the save-version run's."""
    from kit.assets import default_model_path
    from kit.chain import experiments
    from kit.kernel.params import content_values, from_config, validate
    from kit.mechanisms.registry import get_mechanism
    from kit.pack import get_pack, get_recipe

    pack = get_pack(cfg.competition.slug)
    infer = override(cfg.infer, template=template, budget_seconds=budget, margin_seconds=margin,
                     batch_size=batch_size, workers=workers)
    warnings: list[str] = []
    if budget is not None and margin is None and infer.margin_seconds >= budget / 2:
        # A short rehearsal budget with the 30-minute Kaggle margin would leave no time at all.
        infer = override(infer, margin_seconds=int(budget // 10))
        warnings.append(f"margin lowered to {infer.margin_seconds}s for the {budget}s rehearsal budget")
    data_dir = Path(data) if data else pack.mini_competition()
    pack.check_data(data_dir)  # the user's own files, named, before any kernel starts
    recipe = get_recipe(pack, infer.template)  # a model-free recipe (mean) mounts no model
    adapter_dir = Path(adapter or infer.adapter_path) if (adapter or infer.adapter_path) and recipe.needs_model \
        else None
    if (adapter or infer.adapter_path) and not recipe.needs_model:
        warnings.append(f"template {recipe.name} loads no model: the adapter is not mounted")
    if adapter_dir is not None:  # before the default model is converted on a first run: the user's input first
        warnings.extend(check_adapter(adapter_dir, require_record=require_record))
    model_dir = Path(model or infer.base_model_path or default_model_path()) if recipe.needs_model else None
    given = _given_sources(pack, recipe, sources or {}, warnings)
    extra = {name: Path(given.get(name) or default_model_path()) for name in recipe.model_sources}
    for what, path in (("model", model_dir), ("adapter", adapter_dir), ("wheels", wheels), *given.items()):
        if path is not None and not Path(path).exists():
            raise InputError(f"{what} folder not found: {path}")
    from kit.kernel.inputs import check_layout

    layout = check_layout(layout or cfg.kaggle.sandbox_input_layout, "[kaggle] sandbox_input_layout")
    folders = {"model": model_dir, "adapter": adapter_dir, **extra, "wheels": Path(wheels) if wheels else None}
    source = pack.kernel.notebook
    # the same checks build-submission makes (the pack's params dataclass, then the notebook), before any write
    named = {pack.kernel.recipe_param: recipe.name} if pack.kernel.recipe_param else {}
    made = from_config(pack.kernel.params, dataclasses.replace(cfg, infer=infer), sources=_refs(cfg, folders),
                       rows=int(rows) if rows else None, **named)
    params = validate(made, source)
    out_dir = Path(out or experiments.default_out(infer.template)).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in (pack.submission.file_name, REPORT_FILE):
        (out_dir / stale).unlink(missing_ok=True)

    tree = Path(tempfile.mkdtemp(prefix="kit-run-"))
    started = time.time()
    try:
        mounts = _attach(tree, data_dir, pack.slug, params["sources"], folders, layout, pack.kernel.labels_file)
        mechanism = get_mechanism(pack.submission.mechanism)
        mechanism.prepare_competition(tree / "competition", pack.submission.options)
        config_path = RunConfig(
            params=params, recipe_param=pack.kernel.recipe_param, data_dir=str(data_dir),
            model=str(model_dir) if model_dir else None, adapter=str(adapter_dir) if adapter_dir else None,
            wheels=str(folders["wheels"]) if folders["wheels"] else None, layout=layout, kit_config=cfg.to_dict(),
        ).save(out_dir)
        first = _FirstWrite(out_dir / pack.submission.file_name, tree / "first-write.csv")
        try:
            notebook, notice = _execute(tree / "run", source, params, mounts, out_dir,
                                        cfg.kaggle.kernel_timeout_seconds, progress)
        except KeyboardInterrupt as stop:
            first.stop()
            raise RunInterrupted(left_behind(out_dir, pack.submission, first.copy)) from stop
        finally:
            first.stop()
        if notice:
            warnings.insert(0, notice)
        result = _result(out_dir, notebook, config_path, pack, cfg, started, warnings)
        if mechanism.rehearses_rerun:
            result.rerun = _rehearse_rerun(mechanism, pack, source, params, mounts, tree, out_dir,
                                           cfg.kaggle.kernel_timeout_seconds, gateway_startup_limit)
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    if result.rerun is not None and result.rerun.get("submission"):
        result.submission = result.rerun["submission"]  # what Kaggle scores: the gateway's file
    labels = data_dir / pack.kernel.labels_file
    if labels.is_file():
        # the pack's own scoring settings live in its config sections (`--set` reaches them): it gets the config
        result.score = pack.score(Path(result.submission), labels, config=cfg)
    key = experiments.content_key(
        experiments.code_hash(source), content_values(made), needs_model=recipe.needs_model,
        base_model=experiments.base_identity(model_dir), adapter_hash=experiments.adapter_hash(adapter_dir))
    result.content_key = key
    result.experiment_id = experiments.record_run_local(
        result, template=infer.template, params=params, model=model_dir, adapter=adapter_dir,
        data_files=[labels, *_data_files(data_dir, pack.kernel.labels_file)], key=key, ledger=ledger)
    if result.rerun is not None and result.rerun.get("category"):
        raise RerunFailed(f"rehearsed scoring re-run failed: {result.rerun['category']} (the gateway's result.json "
                          f"and both processes' logs are in {result.rerun['folder']})", result=result)
    return result


def _rehearse_rerun(mechanism: Any, pack: Any, source: Path, params: dict[str, Any], mounts: dict[str, Path],
                    tree: Path, out_dir: Path, timeout: float, startup_limit: float | None) -> dict[str, Any]:
    """The notebook run as Kaggle's scoring re-run runs it, on the same rows: {category (None when it passed),
    submission, folder, first_answer_seconds, seconds_per_call, calls, projected_seconds}."""
    from kit.kaggle.emulator import runner
    from kit.kernel.inputs import mount_path
    from kit.mechanisms.base import Rerun, ScoringFailure

    run_dir, working = tree / "rerun", out_dir / "rerun"
    shutil.rmtree(working, ignore_errors=True)
    working.mkdir(parents=True)
    comp_dir = next(folder for rel, folder in mounts.items() if rel.endswith(pack.slug)
                    and rel in {mount_path(pack.slug, layout) for layout in ("2025", "2024")})

    def prepared() -> Path:
        runner.prepare_run(run_dir, text=source.read_text(encoding="utf-8"), kernel_type="notebook",
                           mounts=mounts, timeout=timeout, rerun=True, params=params, working=working)
        return run_dir

    options = dict(pack.submission.options)
    if startup_limit:
        options["startup_limit_seconds"] = startup_limit
    rerun = Rerun(run_kernel=lambda: runner.execute_run(prepared()), working_dir=working, run_dir=run_dir,
                  file_name=pack.submission.file_name, options=options,
                  run_beside=lambda gateway: runner.execute_served(prepared(), gateway), competition=pack.slug,
                  competition_dir=comp_dir)
    outcome: dict[str, Any] = {"category": None, "submission": None, "folder": str(working)}
    try:
        outcome["submission"] = str(_keep(mechanism.score_rerun(rerun), working))
    except ScoringFailure as failed:
        outcome["category"] = failed.category
    finally:
        for kept in sorted(tree.glob("rerun-gateway*")) + [tree / "gateway.log"]:
            if kept.is_file():
                shutil.copyfile(kept, working / kept.name)
            elif kept.is_dir():
                shutil.copytree(kept, working / "gateway", dirs_exist_ok=True)
        _keep_logs(run_dir, source.name, working)
    report = mechanism.rerun_report(rerun, pack.kernel.hidden_rows)
    if report is not None:
        outcome.update(first_answer_seconds=report.setup_seconds, seconds_per_call=report.seconds_per_row,
                       calls=[c.seconds for c in report.calls], projected_seconds=report.projected_seconds)
    return outcome


def _keep(path: Path, folder: Path) -> Path:
    """A copy of the re-run's scored file in the run's own folder (the temporary tree goes)."""
    kept = folder / path.name
    shutil.copyfile(path, kept)
    return kept


def check_adapter(folder: Path, *, require_record: bool = True) -> list[str]:
    """push-adapter's checks of an adapter folder (kit.chain.adapter.validate_adapter: the folder, its
    adapter_config.json and weights, links and credentials), made on the host before any kernel starts: one line
    naming the folder or file (InputError). A folder without its kit_adapter.json is refused as push-adapter refuses
    it (ConfigError), or rehearsed with a warning when `require_record` is off; returns the warnings."""
    from kit.chain.adapter import missing_record, validate_adapter

    if validate_adapter(folder, require_record=False)["kit_adapter"] is not None:
        return []
    problem = missing_record(folder)
    if require_record:
        raise ConfigError(problem, hint="train it with `kit train`, or rehearse it anyway with --no-record")
    return [problem]


class _FirstWrite:
    """Copies the kernel's submission file the first time it appears (a kit kernel writes its complete fallback
    there before it predicts anything), so that an interrupted run can say how much of the file is predictions."""

    def __init__(self, path: Path, copy: Path) -> None:
        self.path, self.copy = path, copy
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="first-write")
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(0.1):  # model loading comes between the fallback and the first predictions
            try:
                shutil.copyfile(self.path, self.copy)  # the kernel replaces the file whole: we copy one version
            except FileNotFoundError:
                continue
            return

    def stop(self) -> None:
        """Stop watching (the copy stays)."""
        self._done.set()
        self._thread.join(timeout=2)


def left_behind(out_dir: Path, spec: Any, first: Path) -> str:
    """One line for an interrupted run: what its folder keeps and what state its submission file is in (`first`:
    the kernel's first write of it, when seen)."""
    kept = sorted(p.name for p in out_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    return (f"run-local interrupted: the kernel and every process it started are stopped; {out_dir} keeps "
            f"{', '.join(kept) or 'nothing'}; {_submission_state(out_dir / spec.file_name, spec, first)}; "
            "nothing was recorded in the ledger")


def _submission_state(path: Path, spec: Any, first: Path) -> str:
    """Whether the submission file is missing, the kernel's first write (the fallback) or partly predicted."""
    from kit.tables import read_rows

    if not path.is_file():
        return f"no {spec.file_name} was written"
    if not first.is_file():
        return f"{spec.file_name} as the kernel left it"
    try:
        before, after = read_rows(first, required=spec.columns), read_rows(path, required=spec.columns)
    except KitError as exc:
        return f"{spec.file_name} cannot be read ({exc})"
    key, values = spec.columns[0], spec.columns[1:]
    was = {row[key]: [row[v] for v in values] for row in before}
    changed = sum(was.get(row[key]) != [row[v] for v in values] for row in after)
    if not changed:
        return f"{spec.file_name} is the kernel's first write (the fallback), no prediction had replaced it"
    return (f"{spec.file_name} is partial: {changed} of {len(after)} rows predicted, the others still the kernel's "
            "first write (the fallback)")


def _given_sources(pack: Any, recipe: Any, sources: Mapping[str, str | Path], warnings: list[str]) -> dict[str, Path]:
    """{name: folder} of the further model sources given for `recipe`; ConfigError for a name no recipe of the
    pack mounts, a warning for one only other recipes mount (it is not mounted)."""
    known = {name for r in pack.recipes().values() for name in r.model_sources}
    given: dict[str, Path] = {}
    for name, folder in sources.items():
        if name not in known:
            raise ConfigError(f"--source {name}: no recipe of {pack.slug} mounts a model source of that name",
                              hint=f"its model sources: {', '.join(sorted(known)) or 'none'}")
        if name in recipe.model_sources:
            given[name] = Path(folder)
        else:
            warnings.append(f"template {recipe.name} mounts no {name} source: {folder} is not mounted")
    return given


def _data_files(data_dir: Path, labels_file: str) -> list[Path]:
    """Every file of the competition folder, subfolders included, except the labels (what the kernel sees)."""
    labels = data_dir / labels_file
    return sorted(p for p in data_dir.rglob("*") if p.is_file() and p != labels)


def _result(out_dir: Path, notebook: Path, config_path: Path, pack: Any, cfg: KitConfig, started: float,
            warnings: list[str]) -> RunLocalResult:
    """The run's figures from the kernel's timing_report.json (the kit's time guard writes it), with a warning when
    the projection does not fit."""
    from kit.mechanisms.registry import get_mechanism

    report_path = out_dir / REPORT_FILE
    # A kernel without the kit's time guard writes no report: the mechanism counts what its output holds.
    report = get_mechanism(pack.submission.mechanism).read_report(pack.submission, out_dir)
    usable = float(cfg.infer.budget_seconds - cfg.infer.margin_seconds)
    projected = report.projected_seconds
    fits = None if projected is None else projected <= usable
    hidden = pack.kernel.hidden_rows
    if fits is False:
        warnings.append(f"projected {projected / 3600:.2f} h for {hidden} rows does not fit the "
                        f"{usable / 3600:.2f} h usable on Kaggle (at this machine's speed)")
    return RunLocalResult(
        out_dir=str(out_dir), submission=str(out_dir / pack.submission.file_name), notebook=str(notebook),
        report_path=str(report_path), config_path=str(config_path), rows=report.rows,
        fallback_rows=report.fallback_rows, rows_per_second=report.rows_per_second,
        seconds_per_row=report.seconds_per_row, projected_seconds=projected,
        kaggle_usable_seconds=usable, fits_budget=fits, hidden_rows=hidden,
        deadline_hit=report.deadline_hit, wall_seconds=round(time.time() - started, 2),
        warnings=warnings,
    )


def _refs(cfg: KitConfig, folders: dict[str, Path | None]) -> dict[str, str]:
    """{name: ref} the notebook resolves: the competition slug and the local folders as sandbox-account sources
    (no wheels given means the sandbox's kit-only bundle, attached all the same)."""
    from kit.kaggle.sandbox import DEFAULT_USER

    owner = cfg.kaggle.username or DEFAULT_USER
    refs = {"competition": cfg.competition.slug}
    for name, folder in folders.items():
        if folder is not None or name == "wheels":
            refs[name] = f"{owner}/{LOCAL_SLUGS.get(name) or f'kit-{name}/transformers/default/1'}"
    return refs


def _attach(tree: Path, data_dir: Path, slug: str, sources: dict[str, str], folders: dict[str, Path | None],
            layout: str, labels_file: str = "test_labels.csv") -> dict[str, Path]:
    """{path under /kaggle/input: folder} for the local sources named in `sources`.

    The competition folder is a copy without the labels (the kernel never sees them); no wheels given means
    the sandbox's kit-only bundle."""
    from kit.chain.wheels import sandbox_bundle
    from kit.kernel.inputs import mount_path

    comp = tree / "competition"
    comp.mkdir(parents=True)
    for src in _data_files(data_dir, labels_file):  # subfolders too (an inference-server kaggle_evaluation/)
        dst = comp / src.relative_to(data_dir)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    folders = {**folders, "wheels": folders.get("wheels") or sandbox_bundle()}
    mounts = {mount_path(slug, layout): comp}
    for name, folder in folders.items():
        if folder is not None:
            mounts[mount_path(sources[name], layout)] = Path(folder)
    return mounts


def _execute(run_dir: Path, source: Path, params: dict[str, Any], mounts: dict[str, Path], out_dir: Path,
             timeout: float, progress: bool = False) -> tuple[Path, str]:
    """Run the kernel notebook `source` as a sandbox kernel writing into `out_dir`; (executed notebook, notice)."""
    from kit.errors import NotebookError
    from kit.kaggle.emulator import runner

    runner.prepare_run(run_dir, text=source.read_text(encoding="utf-8"), kernel_type="notebook",
                       mounts=mounts, timeout=timeout, rerun=False, params=params, working=out_dir)
    try:
        result = runner.execute_run(run_dir, stream=progress)
    finally:  # an interrupted run keeps its log and notebook so far too
        notebook = _keep_logs(run_dir, source.name, out_dir)
    notice = json.loads((run_dir / "src" / "run.json").read_text()).get("notice", "")
    if result["status"] != "COMPLETE":
        raise NotebookError(f"{source.name}: {result['failureMessage']}",
                            hint=f"kernel log: {out_dir / 'kernel_log.txt'}")
    return notebook, notice


def _keep_logs(run_dir: Path, name: str, out_dir: Path) -> Path:
    """Copy the kernel's log (kernel_log.txt), its executed notebook (as `name`) and the kernel process's own
    chatter (`name` with .log) from the run folder into `out_dir`; the notebook's path there."""
    from kit.kaggle.emulator import runner

    src = run_dir / "src"
    (out_dir / "kernel_log.txt").write_text("".join(e["data"] for e in json.loads(runner.run_log(run_dir) or "[]")))
    notebook = out_dir / name
    for produced, dst in (("executed.ipynb", notebook), ("executed.log", notebook.with_suffix(".log"))):
        if (src / produced).is_file():
            shutil.copyfile(src / produced, dst)
    return notebook


def describe(result: RunLocalResult) -> str:
    """Human-readable summary lines for the CLI."""
    lines = [f"local experiment #{result.experiment_id} in {result.out_dir}",
             f"submission: {result.submission}", f"notebook:   {result.notebook}",
             f"report:     {result.report_path}", f"config:     {result.config_path}",
             f"rows: {result.rows} ({result.fallback_rows} on the fallback), wall {result.wall_seconds:.1f}s"]
    if result.rows_per_second is not None:
        lines.append(f"rows/s: {result.rows_per_second:.2f}, {result.seconds_per_row:.3f} s per row")
    from kit.kernel.guard import kaggle_budget_line, run_budget_line

    report_path = Path(result.report_path)
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else {}
    projection = {"projected_seconds": result.projected_seconds, "projected_rows": result.hidden_rows}
    kaggle = kaggle_budget_line(projection, result.kaggle_usable_seconds)
    lines += [kaggle] if kaggle else []
    lines += [run_budget_line(report, "rehearsal budget (this machine)")] if "budget_seconds" in report else []
    for warning in result.warnings:
        lines.append(f"warning: {warning}")
    if result.rerun is not None:
        lines.extend(_rerun_lines(result.rerun, result.hidden_rows))
    if result.score is not None:
        s = result.score
        by = f", scored with {s['scorer']}" if s.get("scorer") else ""
        lines.append(f"local score: {s['mean']:.4f} (95% CI [{s['ci_low']:.4f}, {s['ci_high']:.4f}], n={s['n']}{by})")
        if s.get("note"):  # the pack's own remark on how it scored
            lines.append(f"note: {s['note']}")
    return "\n".join(lines)


def _rerun_lines(rerun: dict[str, Any], hidden_rows: int) -> list[str]:
    """The rehearsed scoring re-run in words: its outcome, the time to the first answer, the calls' pace."""
    from kit.kernel.guard import duration

    status = "passed" if not rerun.get("category") else f"FAILED: {rerun['category']}"
    lines = [f"scoring re-run rehearsed (the gateway beside the served notebook): {status}; files in {rerun['folder']}"]
    if rerun.get("first_answer_seconds") is not None:
        calls = rerun.get("calls") or []
        lines.append(f"first answer {duration(rerun['first_answer_seconds'])} after the kernel started (Kaggle's "
                     f"gateway waits 15 min for it); {len(calls)} calls, {rerun['seconds_per_call']:.3f} s each "
                     f"after the first; projected for {hidden_rows} rows: {duration(rerun['projected_seconds'])}")
    return lines
