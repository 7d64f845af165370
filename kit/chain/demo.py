"""`kit demo` / `make demo`: the whole chain on embedded defaults, against the local sandbox.

For a recipe that loads a model, when the pack trains one (`Pack.trains`), train a small adapter through the pack
(a few steps on the embedded instruct model) and show what it predicts for a few held-out rows beside the
answers; a pack that trains nothing (AIMO) mounts the base model as it is. When the pack names demo rows
(`Pack.demo_rehearsal`), rehearse the kernel on them with run-local first (the save-version run, and for a served
notebook the scoring re-run with the gateway beside it). Publish the base model as a sandbox Model source and
push the adapter, if any, as a dataset. Then build and push the wheels bundle (the kit's own wheel only), render
the kernel with the recipe (the caller's template, else the config's [infer] template as the pack's
`demo_config` leaves it), submit it (push, run, check the output, code-submit that version, poll the score; the
sandbox takes the pack's `sandbox_settings`, such as fewer hidden rows) and print the ledger. Each step is the
same library call the individual commands make; nothing here talks to kaggle.com.

The short CPU budget leaves hidden rows on the fallback string, so a sandbox score alone would be mostly the
fallback's: the demo reads what the scoring re-run wrote (which only the sandbox can show) and says how many rows
were predicted, what those rows alone score, and the run's timing against Kaggle's budget and its own.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.config import KitConfig, load_config

DEMO_DIR = Path("kit-demo")
TRAIN_STEPS = 2
# A short time budget: CPU generation over the hidden rows dominates the demo's run time, and the kernel's time
# guard leaves the rows it cannot reach on the fallback (the submission stays whole). The pack's `demo_config`
# adds its own knobs (say, shorter answers).
DEMO_INFER = {"batch_size": 8, "budget_seconds": 150, "margin_seconds": 30}
DEMO_MODEL_REF = "sandbox-user/kit-demo-base/transformers/default/1"
PREDICTED_ROWS_FILE = "hidden_predicted_rows.csv"  # the re-run's predicted rows alone, scored beside the headline


@dataclass
class HiddenRun:
    """What the sandbox's scoring re-run made of the hidden set: rows, how many stayed on the fallback string, the
    local metric over the predicted rows alone, and the run's timing against Kaggle's budget and its own."""

    rows: int
    fallback_rows: int | None  # None: the kernel wrote no timing report (not the kit's time guard)
    model_free: bool  # the recipe writes the fallback string on every row by design
    deadline_hit: bool = False
    predicted_score: dict[str, Any] | None = None  # the pack's metric over the predicted rows (mean, CI, n)
    note: str = ""  # why the predicted rows could not be scored
    kaggle_budget: str | None = None
    rehearsal_budget: str | None = None

    def headline(self) -> str:
        """A few words for the score line: how much of the hidden set the score is the fallback's."""
        if self.fallback_rows is None:
            return f"{self.rows} hidden rows"
        if self.model_free:
            return f"all {self.rows} hidden rows the model-free recipe's string"
        return f"{self.fallback_rows} of {self.rows} hidden rows on the fallback string"

    def lines(self) -> list[str]:
        """Labelled lines for people: the fallback count, the score without it, the two budgets."""
        out = [f"hidden set (the scoring re-run): {self.headline()}"]
        if self.fallback_rows and not self.model_free:
            why = " (the time guard stopped at the demo's deadline)" if self.deadline_hit else ""
            out[0] += f"{why}: the public and private scores are partly the fallback string's"
        if self.predicted_score is not None:
            s = self.predicted_score
            out.append(f"without the fallback: {s['mean']:.4f} [{s['ci_low']:.4f}, {s['ci_high']:.4f}] over the "
                       f"{s['n']} predicted row(s) alone (local metric, the sandbox's scorer; public and private "
                       "ids together)")
        elif self.fallback_rows and not self.model_free:
            out.append(f"without the fallback: no score ({self.note or 'no row was predicted'})")
        out += [line for line in (self.kaggle_budget, self.rehearsal_budget) if line]
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain data for --json."""
        return dataclasses.asdict(self)


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def demo_config(base: KitConfig | None = None, template: str | None = None, model: Path | None = None) -> KitConfig:
    """The demo's config: the workspace's competition, slugs and template, with sandbox identity and embedded
    defaults (`model`, or empty for the embedded instruct model), tuned by the competition pack for a short CPU run
    (which may pick a cheaper recipe); a `template` the caller names wins over both."""
    from kit.pack import get_pack

    cfg = base or load_config()
    local = str(model) if model else ""
    kaggle = dataclasses.replace(cfg.kaggle, username="", base_model="")  # sandbox account; the demo publishes one
    infer = dataclasses.replace(cfg.infer, template=template or cfg.infer.template, base_model_path=local,
                                **DEMO_INFER)
    cfg = get_pack(cfg.competition.slug).demo_config(dataclasses.replace(cfg, kaggle=kaggle, infer=infer), local)
    if template:
        cfg = dataclasses.replace(cfg, infer=dataclasses.replace(cfg.infer, template=template))
    return cfg


def hidden_run(pack: Any, submission_ref: int, *, kaggle_usable_seconds: float, model_free: bool,
               workdir: Path) -> HiddenRun | None:
    """What the sandbox's scoring re-run of submission `submission_ref` wrote (None when it left nothing to read):
    the kernel's timing report and submission file, and the pack's local metric over the rows the model predicted
    (the mini-competition is the sandbox's hidden set; no options: the pack's default scorer, the sandbox's)."""
    from kit.errors import KitError
    from kit.kaggle.sandbox import scoring_output
    from kit.kernel.guard import kaggle_budget_line, run_budget_line
    from kit.kernel.report import REPORT_FILE
    from kit.tables import read_rows, write_rows

    out = scoring_output(submission_ref)
    if out is None or not (out / pack.submission.file_name).is_file():
        return None
    columns = pack.submission.columns
    rows = read_rows(out / pack.submission.file_name, required=columns)
    report = json.loads((out / REPORT_FILE).read_text(encoding="utf-8")) if (out / REPORT_FILE).is_file() else {}
    if "fallback_rows" not in report:
        return HiddenRun(rows=len(rows), fallback_rows=None, model_free=model_free)
    run = HiddenRun(rows=len(rows), fallback_rows=int(report["fallback_rows"]), model_free=model_free,
                    deadline_hit=bool(report.get("deadline_hit")),
                    kaggle_budget=kaggle_budget_line(report, kaggle_usable_seconds),
                    rehearsal_budget=run_budget_line(report, "rehearsal budget (this machine, the demo's short run)"))
    left = set(report.get("fallback_ids") or [])
    predicted = [r for r in rows if r[columns[0]] not in left]
    if model_free or not run.fallback_rows or not predicted:
        return run
    if "fallback_ids" not in report:
        run.note = "the kernel's report names no fallback ids"
        return run
    path = write_rows(workdir / PREDICTED_ROWS_FILE, predicted, columns)
    try:
        run.predicted_score = pack.score(path, pack.mini_competition() / pack.kernel.labels_file)
    except KitError as exc:  # the score above stands; this is only its explanation
        run.note = str(exc)
    return run


def _rehearse(cfg: KitConfig, data: Path, out: Path, model: Path | None) -> str:
    """`kit run-local` on the pack's demo rows (recorded in the ledger like any run-local); one line: the local score
    and whether the rehearsed scoring re-run passed."""
    from kit.chain.run_local import run_local

    result = run_local(cfg, data=data, out=out, model=model)
    score = result.score or {}
    line = f"local score {score.get('mean', 0.0):.4f} over {score.get('n', 0)} row(s)" if score else "not scored"
    if result.rerun is not None:
        line += f"; rehearsed scoring re-run: {result.rerun.get('category') or 'passed'}"
    return f"{line} (experiment {result.experiment_id}, outputs in {out})"


def _wheels(cfg: KitConfig, out: Path) -> dict[str, Any]:
    from kit.chain.wheels import (
        SANDBOX_PLATFORM,
        SANDBOX_PYTHON,
        build_bundle,
        push_bundle,
        sandbox_bundle,
        sandbox_image_freeze,
    )

    # The sandbox's stand-in image holds every dependency: the kernel installs just the kit's wheel (--no-deps).
    build_bundle(out, kit_only=True, kit_wheel=next(sandbox_bundle().glob("*.whl")), verify=False,
                 python_version=SANDBOX_PYTHON, platform=SANDBOX_PLATFORM, image_freeze=sandbox_image_freeze())
    return push_bundle(out, cfg, sandbox=True)


def run_demo(config: KitConfig | None = None, *, workdir: Path = DEMO_DIR, steps: int = TRAIN_STEPS,
             template: str | None = None, model: Path | None = None, say: Callable[[str], None] | None = None,
             timeout: float = 900.0, keep_sandbox: bool = False) -> dict[str, Any]:
    """Run every step against the sandbox; returns the ledger row of the scored submission, step timings and what
    the scoring re-run made of the hidden set (`hidden`, a HiddenRun or None).

    `model` is the base model (default: the embedded instruct model); it is trained on and published to the
    sandbox as a Model source that the kernel mounts, as a Kaggle Model would be. A sandbox emulator the demo had
    to start is stopped at the end (and it says so) unless `keep_sandbox`."""
    from kit.kaggle.sandbox import recorded, sandbox_dir, stop_emulator

    say = say or _say
    was_running = recorded(sandbox_dir() / "state") is not None
    try:
        return _run_demo(config, workdir, steps, template, model, say, timeout)
    finally:
        if not was_running and not keep_sandbox and stop_emulator():
            say("stopped the sandbox emulator the demo started (--keep-sandbox leaves it running)")


def _run_demo(config: KitConfig | None, workdir: Path, steps: int, template: str | None, model: Path | None,
              say: Callable[[str], None], timeout: float) -> dict[str, Any]:
    from kit.assets import default_model_path
    from kit.chain.adapter import push_adapter
    from kit.chain.build import build_submission
    from kit.chain.submit import submit
    from kit.kaggle.client import kaggle_client
    from kit.kaggle.isolation import degraded_notice, isolation_problem
    from kit.kaggle.sandbox import publish_model
    from kit.pack import get_pack, get_recipe

    base = config or load_config()
    pack = get_pack(base.competition.slug)
    template = demo_config(base, template).infer.template  # the caller's, else the workspace's or the pack's pick
    recipe = get_recipe(pack, template)  # a bad name fails here, before the instruct model is converted
    uses_model = recipe.needs_model  # a model-free recipe (mean) mounts no model or adapter
    trains = uses_model and pack.trains  # a pack that wins by inference alone mounts the base model untrained
    model = (Path(model) if model else default_model_path()) if uses_model else None
    cfg = demo_config(base, template, model)
    problem = isolation_problem()
    say(degraded_notice(problem) if problem else "sandbox kernels run isolated: user, mount and network namespaces, "
        f"inputs at /kaggle/input ({cfg.kaggle.sandbox_input_layout} layout), the kit installed from the wheels")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    def step(name: str, fn: Callable[[], Any]) -> Any:
        say(f"== {name}")
        started = time.monotonic()
        result = fn()
        timings[name] = round(time.monotonic() - started, 1)
        say(f"   done in {timings[name]:.1f} s")
        return result

    adapter, meta = workdir / "adapter", {}
    if trains:
        meta = step(f"train a LoRA adapter on {model.name} ({steps} steps)",
                    lambda: pack.train_adapter(cfg, adapter, steps))
        for example in (meta.get("val_score") or {}).get("examples", []):
            say(f"   recovered: {example['prediction']}\n   true:      {example['label']}")
        cfg = dataclasses.replace(cfg, infer=dataclasses.replace(cfg.infer, adapter_path=str(adapter)))
    elif model is not None:
        say(f"no adapter: the {pack.slug} pack trains none, the kernel mounts {model.name} as it is")
    rehearsal = pack.demo_rehearsal(workdir)
    if rehearsal is not None:
        local = step("rehearse the kernel locally (kit run-local: the save-version run, then the scoring re-run)",
                     lambda: _rehearse(cfg, rehearsal, workdir / "run-local", model))
        say(f"   {local}")
    if model is not None:
        cfg = dataclasses.replace(cfg, kaggle=dataclasses.replace(cfg.kaggle, base_model=DEMO_MODEL_REF))
    client = step("start the sandbox", lambda: kaggle_client(cfg, sandbox=True))
    if model is not None:
        step(f"publish {model.name} as the sandbox Model {DEMO_MODEL_REF}",
             lambda: publish_model(DEMO_MODEL_REF, model))
    if trains:
        pushed = step("push the adapter", lambda: push_adapter(cfg, adapter, notes="kit demo", client=client))
        say(f"   {pushed['ref']} v{pushed['version']}{' (unchanged, not uploaded)' if pushed['skipped'] else ''}")
    wheels = step("build and push the wheels bundle (kit wheel only)", lambda: _wheels(cfg, workdir / "wheels"))
    say(f"   {wheels['ref']} v{wheels['version']}")
    kernel = step(f"build the submission (template {template})",
                  lambda: build_submission(cfg, template=template, out=workdir / "kernel", sandbox=True))
    row = step("submit and wait for the score", lambda: submit(
        cfg, workdir / "kernel", message="kit demo", allow_dirty=True, sandbox=True, timeout=timeout, say=say,
        client=client))
    hidden = None
    if row.get("submission_ref") is not None:
        usable = float(base.infer.budget_seconds - base.infer.margin_seconds)  # the workspace's, not the demo's
        hidden = hidden_run(pack, row["submission_ref"], kaggle_usable_seconds=usable, model_free=not uses_model,
                            workdir=workdir)
    # how many runs of the private part its score comes from (AIMO: 2, penalized accuracy), as the sandbox scored it
    private_runs = int(getattr(pack.emulator(), "private_reruns", 1) or 1)
    return {"row": row, "timings": timings, "adapter": str(adapter) if trains else "",
            "val_score": (meta.get("val_score") or {}),
            "kernel": kernel["folder"], "hidden": hidden, "private_runs": private_runs}
