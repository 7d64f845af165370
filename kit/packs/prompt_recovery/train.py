"""LoRA training on the answer: knobs, Trainer set-up, resume, flat adapter output, evaluation.

`train(cfg)` is the one code path: `kit train --no-notebook` calls it in-process, notebooks/train.ipynb calls
it through `train_from_params`, and `accelerate launch -m kit train --no-notebook ...` runs it on every GPU
(the Trainer handles the distribution; only the main process saves, evaluates and writes kit_adapter.json).
The base model, LoRA and Trainer set-up are generic: kit/llm/lora.py.

`preflight` checks everything a run depends on (knobs, template, data, base model folder, precision, whether
max_length fits, target modules, the checkpoint to resume from) before a notebook or a model starts: `kit train`
runs it on the host, so a config error is exit 3 naming the key, never a failed notebook cell. The adapter
folder is built beside `out` and renamed into place only when the run is complete (`kit.files.replace_dir`): a
failed or interrupted run leaves the previous adapter exactly as it was, while the Trainer's checkpoints, in
`<out>-checkpoints` beside it, survive for `--resume`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit import __version__
from kit.artefacts import ADAPTER_META_NAME as META_NAME
from kit.artefacts import AdapterInfo
from kit.errors import ConfigError, InputError, TrainingError
from kit.files import atomic_write, replace_dir, write_json
from kit.git import git_state
from kit.llm.lora import build_trainer, check_4bit, newest_checkpoint, resolve_precision, say
from kit.llm.modelsig import signature
from kit.packs.prompt_recovery.adapter import PromptRecoveryAdapter
from kit.packs.prompt_recovery.params import COMPETITION
from kit.packs.prompt_recovery.settings import TrainConfig
from kit.packs.prompt_recovery.train_data import TRAIN_PRIME, encode_splits, trained_format
from kit.typecheck import check, field_types

SCHEDULES = ("cosine", "linear", "constant")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")


@dataclass
class TrainResult:
    """Where the adapter went and what kit_adapter.json says about it."""

    out: Path
    meta: dict[str, Any]


@dataclass
class Plan:
    """What a run will do, with every input checked (`preflight`): paths, rows and the checkpoint to resume."""

    cfg: TrainConfig
    data: Path
    base: Path
    out: Path
    ckpt: Path
    rows: list[dict]
    run: dict[str, Any]  # what checkpoints of this run are trained on (kit_run.json)
    resume_from: str | None  # the newest checkpoint of this run when resuming, else None


# ---------------------------------------------------------------------------- knobs


def validate(cfg: TrainConfig) -> TrainConfig:
    """Check every knob before anything heavy is imported; ConfigError names the first bad one."""
    checks = [
        (cfg.lora_r >= 1, "lora_r must be >= 1"),
        (cfg.lora_alpha >= 1, "lora_alpha must be >= 1"),
        (0 <= cfg.lora_dropout < 1, "lora_dropout must be in [0, 1)"),
        (all(isinstance(m, str) and m for m in cfg.target_modules), "target_modules must be module names"),
        (cfg.learning_rate > 0, "learning_rate must be > 0"),
        (cfg.lr_scheduler in SCHEDULES, f"lr_scheduler must be one of {', '.join(SCHEDULES)}"),
        (0 <= cfg.warmup_ratio < 1, "warmup_ratio must be in [0, 1)"),
        (cfg.max_steps >= 0, "max_steps must be >= 0 (0: use epochs)"),
        (cfg.max_steps > 0 or cfg.epochs > 0, "epochs must be > 0 when max_steps is 0"),
        (cfg.template in trainable_templates(), _template_problem(cfg.template)),
        (cfg.batch_size >= 1, "batch_size must be >= 1"),
        (cfg.grad_accum >= 1, "grad_accum must be >= 1"),
        (cfg.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}"),
        (cfg.save_steps >= 1, "save_steps must be >= 1"),
        (cfg.save_total_limit >= 1, "save_total_limit must be >= 1"),
        (cfg.logging_steps >= 1, "logging_steps must be >= 1"),
        (cfg.max_length >= 16, "max_length must be >= 16 tokens"),
        (0 <= cfg.val_fraction < 1, "val_fraction must be in [0, 1)"),
        (cfg.eval_rows >= 0, "eval_rows must be >= 0"),
        (cfg.eval_max_new_tokens >= 1, "eval_max_new_tokens must be >= 1"),
        (cfg.cpu_threads >= 0, "cpu_threads must be >= 0 (0: torch's default)"),
        (bool(cfg.out), "out must name a folder"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(f"[train] {message}")
    return cfg


def trainable_templates() -> list[str]:
    """The templates a run can train in, sorted: those that prompt a model (`mean` has no prompt)."""
    from kit.packs.prompt_recovery.templates import list_templates

    return sorted(t.name for t in list_templates() if t.examples or t.primes or t.assembler != "mean")


def _template_problem(name: str) -> str:
    """Why `name` cannot be trained in, listing the templates that can."""
    from kit.packs.prompt_recovery.templates import list_templates

    known = ", ".join(trainable_templates())
    if name in {t.name for t in list_templates()}:
        return f"template '{name}' prompts no model, so there is nothing to train; trainable templates: {known}"
    return f"template '{name}' is unknown; trainable templates: {known}"


def config_from_params(params: dict[str, Any]) -> TrainConfig:
    """A validated TrainConfig from plain values (the notebook's parameters); unknown keys are errors."""
    base = TrainConfig()
    known = {f.name for f in dataclasses.fields(base)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ConfigError(f"[train] unknown knob(s) {', '.join(unknown)}")
    hints = field_types(TrainConfig)
    values = {k: check(v, hints[k], f"[train] {k}") for k, v in params.items()}
    return validate(dataclasses.replace(base, **values))


def training_data_file(cfg: TrainConfig) -> Path:
    """The training data file: [train] data, else the bundled sample train.csv (no model is built for this)."""
    from kit.packs.prompt_recovery import samples

    return Path(cfg.data) if cfg.data else samples.mini_competition_dir() / "train.csv"


def resolve_paths(cfg: TrainConfig) -> tuple[Path, Path, Path, Path]:
    """(data file, base model, adapter folder, checkpoint folder), defaults filled in."""
    from kit import assets

    data = training_data_file(cfg)
    base = Path(cfg.base_model_path) if cfg.base_model_path else assets.default_model_path()
    return (data, base, *output_paths(cfg))


def output_paths(cfg: TrainConfig) -> tuple[Path, Path]:
    """(adapter folder, checkpoint folder): checkpoints live beside the adapter, never inside the folder a
    finished run replaces, so an interrupted run keeps them for --resume."""
    out = Path(cfg.out).resolve()
    ckpt = Path(cfg.checkpoint_dir).resolve() if cfg.checkpoint_dir else out.with_name(out.name + "-checkpoints")
    return out, ckpt


def _quiet_warnings() -> None:
    # transformers 5 renamed gradient_checkpointing* to activation_checkpointing*; 4.x (Kaggle images) only
    # knows the old spelling, so the kit keeps it and hides the deprecation notice.
    for pattern in (".*gradient_checkpointing.*", ".*is_gradient_checkpointing.*", ".*activation_checkpointing.*"):
        warnings.filterwarnings("ignore", message=pattern, category=FutureWarning)
        warnings.filterwarnings("ignore", message=pattern, category=DeprecationWarning)


# ---------------------------------------------------------------------------- checks before anything runs


RUN_NAME = "kit_run.json"  # what the checkpoints in a checkpoint folder were trained on
_RUN_KEYS = ("data_sha256", "base_model", "template", "lora_r", "lora_alpha", "target_modules", "max_length")


def resume_point(ckpt: Path, resume: bool, run: dict[str, Any]) -> str | None:
    """The checkpoint a `--resume` run continues from (None: no checkpoint, or not resuming); ConfigError when
    the checkpoint was trained on other data or knobs."""
    import json

    last = newest_checkpoint(ckpt) if resume else None
    if last is not None and (ckpt / RUN_NAME).exists():
        before = json.loads((ckpt / RUN_NAME).read_text(encoding="utf-8"))
        # [] means "every linear layer", which a resolved list from kit_adapter.json also spells out
        changed = [k for k in _RUN_KEYS if k in before and before[k] != run[k]
                   and not (k == "target_modules" and not (before[k] and run[k]))]
        if changed:
            raise ConfigError(f"cannot resume from {last}: {', '.join(changed)} changed since it was saved",
                              hint="train without --resume, or restore the original data and knobs")
    return None if last is None else str(last)


def _check_base(cfg: TrainConfig, base: Path) -> None:
    """ConfigError for a base model folder that is no transformers model; MissingDependencyError for 4-bit
    without CUDA and bitsandbytes; ConfigError for a precision this machine cannot train in."""
    import torch

    if base.exists() and not (base / "config.json").is_file():
        raise ConfigError(f"[train] base_model_path {base} has no config.json",
                          hint="point --base at a transformers model folder")
    cuda = torch.cuda.is_available()
    if cfg.load_in_4bit:
        check_4bit(cuda)
    resolve_precision(cfg.precision, cuda, cuda and torch.cuda.get_device_capability()[0] >= 8)


def _check_fit(cfg: TrainConfig, base: Path, rows: list[dict]) -> None:
    """ConfigError when max_length fits no row (the template's prompt alone is longer), or when a named target
    module is not in the model; needs only the tokenizer and the model's config, never its weights."""
    from transformers import AutoTokenizer

    from kit.llm.lora import check_target_modules
    from kit.packs.prompt_recovery.templates import get_template
    from kit.packs.prompt_recovery.train_data import check_fits

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(base))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"[train] base_model_path {base}: cannot load its tokenizer: "
                          f"{str(exc).splitlines()[0]}", hint="point --base at a model folder") from None
    check_fits(tokenizer, get_template(cfg.template), cfg.template, rows, cfg.max_length)
    if cfg.target_modules:
        check_target_modules(base, list(cfg.target_modules))


def preflight(cfg: TrainConfig, embedder: str | Path | None = None) -> Plan:
    """Check every input of a run before any model (or notebook) starts; returns the run's `Plan`.

    Knobs and template, the data, the output folder, the base model folder, precision and 4-bit, whether
    max_length fits the template's prompt, target modules, the validation's embedder folder, and the checkpoint
    `--resume` would continue from (said on stderr when there is none)."""
    from kit.assets import file_sha256
    from kit.packs.prompt_recovery.train_data import load_rows

    validate(cfg)
    rows = load_rows(training_data_file(cfg))  # bad data fails before torch is imported (or a model is converted)
    data, base, out, ckpt = resolve_paths(cfg)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"[train] out {out} is a file, not a folder", hint="name a folder for the adapter")
    _check_base(cfg, base)
    _check_fit(cfg, base, rows)
    if embedder and cfg.eval_rows and cfg.val_fraction and not Path(embedder).expanduser().is_dir():
        # the validation score needs it after training: found missing now, not hours later
        raise InputError(f"embedder folder not found: {embedder}",
                         hint="give a sentence-transformers model folder (e.g. sentence-t5-base)")
    run = {"data_sha256": file_sha256(data), "base_model": str(base), "template": cfg.template,
           "lora_r": cfg.lora_r, "lora_alpha": cfg.lora_alpha, "target_modules": list(cfg.target_modules),
           "max_length": cfg.max_length}
    resume_from = resume_point(ckpt, cfg.resume, run)
    if cfg.resume and resume_from is None:
        say(f"--resume: no checkpoint in {ckpt}; training from scratch")
    return Plan(cfg=cfg, data=data, base=base, out=out, ckpt=ckpt, rows=rows, run=run, resume_from=resume_from)


# ---------------------------------------------------------------------------- the run


def _prepare_checkpoints(plan: Plan) -> None:
    """Clear a fresh run's stale checkpoints and record what this run's checkpoints are trained on."""
    if not plan.cfg.resume:
        for stale in plan.ckpt.glob("checkpoint-*") if plan.ckpt.is_dir() else []:
            shutil.rmtree(stale, ignore_errors=True)  # our own folder: old steps would hijack a later resume
    if int(os.environ.get("RANK", 0)) == 0:
        write_json(plan.ckpt / RUN_NAME, plan.run)


def train(cfg: TrainConfig, *, embedder_path: str | Path | None = None, progress: bool = True) -> TrainResult:
    """Train a LoRA adapter on the answer and replace the flat adapter folder (with kit_adapter.json) whole."""
    plan = preflight(cfg, embedder_path)
    import torch

    threads = torch.get_num_threads()  # restored after: the process (a test session, a notebook) goes on
    if cfg.cpu_threads and not torch.cuda.is_available():
        torch.set_num_threads(cfg.cpu_threads)
    try:
        return _train(plan, embedder_path, progress)
    finally:
        torch.set_num_threads(threads)


def _train(plan: Plan, embedder_path: str | Path | None, progress: bool) -> TrainResult:
    import torch

    from kit.packs.prompt_recovery.templates import get_template
    from kit.packs.prompt_recovery.train_data import split_rows

    cfg = plan.cfg
    train_rows, val_rows = split_rows(plan.rows, cfg.val_fraction, cfg.seed)
    _quiet_warnings()
    template = get_template(cfg.template)
    cuda = torch.cuda.is_available()
    # compute capability, not is_bf16_supported(): newer torch reports emulated bf16 on a T4 as supported
    precision = resolve_precision(cfg.precision, cuda, cuda and torch.cuda.get_device_capability()[0] >= 8)
    _prepare_checkpoints(plan)
    started = time.time()
    tokenizer, train_enc, val_enc, counts = encode_splits(cfg, plan.base, template, train_rows, val_rows, progress)
    trainer, targets = build_trainer(cfg, plan.base, plan.ckpt, precision, cuda, tokenizer, train_enc, val_enc)
    try:
        # the Trainer prints its loss lines to stdout: keep stdout clean for `--json`
        with contextlib.redirect_stdout(sys.stderr), torch.enable_grad():
            outcome = trainer.train(resume_from_checkpoint=plan.resume_from)
    except torch.cuda.OutOfMemoryError:
        raise TrainingError("out of GPU memory", hint="lower batch_size or max_length, or use --auto-batch-size, "
                            "--gradient-checkpointing, --load-in-4bit") from None
    val_loss = None
    if trainer.eval_dataset is not None:
        say(f"validation loss on {len(trainer.eval_dataset)} rows")
        with contextlib.redirect_stdout(sys.stderr):
            val_loss = trainer.evaluate()["eval_loss"]
    if not trainer.is_world_process_zero():
        return TrainResult(out=plan.out, meta={})
    losses = [(h["step"], h["loss"]) for h in trainer.state.log_history if "loss" in h]
    resolved = dataclasses.asdict(cfg) | {
        "data": str(plan.data.resolve()), "base_model_path": str(plan.base), "out": str(plan.out),
        "checkpoint_dir": str(plan.ckpt), "target_modules": targets, "precision": precision,
        "batch_size": trainer.state.train_batch_size or cfg.batch_size,
    }
    meta = AdapterInfo(
        pack=COMPETITION, extra=PromptRecoveryAdapter(template=cfg.template, prime=TRAIN_PRIME),
        kit_version=__version__, git_sha=git_state()[0], base_model=str(plan.base),
        base_signature=signature(plan.base),
        data_file=str(plan.data.resolve()), data_sha256=plan.run["data_sha256"],
        rows=counts | {"total": len(plan.rows)}, knobs=resolved,
        train_loss=float(outcome.training_loss), val_loss=None if val_loss is None else float(val_loss),
        loss_history=losses, global_step=trainer.state.global_step, resumed_from=plan.resume_from,
        train_seconds=round(time.time() - started, 2), device="cuda" if cuda else "cpu",
    )
    with replace_dir(plan.out) as build:  # the previous adapter stays whole until this one is complete
        _save_flat(trainer, tokenizer, build)
        del trainer, outcome
        from kit.llm.memory import free_memory

        free_memory()
        meta.save(build)  # first, so evaluation reads the format from it as inference will
        eval_started = time.time()
        plain = dataclasses.replace(template, rescore=False)  # validation generates; it has no rewriter to rank with
        eval_rows = val_rows[: cfg.eval_rows]
        if eval_rows:
            say(f"validation: generating {len(eval_rows)} rows with the new adapter")
        score = evaluate(build, plan.base, trained_format(plain, build), eval_rows, cfg, embedder_path)
        meta.extra = dataclasses.replace(meta.extra, val_score=score, val_seconds=round(time.time() - eval_started, 2))
        meta.save(build)
    say(f"adapter written to {plan.out}")
    return TrainResult(out=plan.out, meta=meta.to_dict())


def _save_flat(trainer: Any, tokenizer: Any, out: Path) -> None:
    """adapter_config.json + adapter_model.safetensors + tokenizer files straight into the (empty) folder `out`."""
    trainer.model.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    if not (out / "adapter_model.safetensors").exists():
        raise TrainingError(f"no adapter_model.safetensors written to {out}")


# ---------------------------------------------------------------------------- evaluation


def evaluate(adapter: Path, base: Path, template: Any, rows: list[dict], cfg: TrainConfig,
             embedder_path: str | Path | None = None) -> dict[str, Any] | None:
    """Generate for `rows` with the inference engine's batched path and score with the core metric."""
    if not rows:
        return None
    from kit.llm.engine import Engine
    from kit.llm.memory import free_memory
    from kit.packs.prompt_recovery.metric import load_embedder, score_texts
    from kit.packs.prompt_recovery.predict import predict_rows

    engine = Engine(str(base), adapter_path=str(adapter), load_in_4bit=cfg.load_in_4bit)
    preds = predict_rows(rows, template, engine, max_new_tokens=cfg.eval_max_new_tokens,
                         batch_size=cfg.batch_size, max_field_tokens=max(16, cfg.max_length // 3))
    del engine
    free_memory()
    report = score_texts(preds, [r["rewrite_prompt"] for r in rows], load_embedder(embedder_path or None))
    examples = [{"prediction": p, "label": r["rewrite_prompt"]} for p, r in list(zip(preds, rows, strict=True))[:3]]
    return {"mean": report.mean, "ci_low": report.ci_low, "ci_high": report.ci_high, "n": report.n,
            "embedder": report.embedder, "scorer": report.embedder, "examples": examples}


KERNEL_PID_NAME = "kit_kernel.pid"  # in the checkpoint folder: the notebook kernel `kit train` interrupts on Ctrl-C
KERNEL_STOP_SECONDS = 60.0  # how long Ctrl-C waits for the interrupted kernel to end its cell


def train_from_params(params: dict[str, Any], embedder: str = "", progress: bool = True) -> TrainResult:
    """Notebook entry: the parameters cell's values -> validated config -> `train`.

    Writes this process's pid to the checkpoint folder first: `kit train` runs the notebook's kernel in a
    session of its own, so a Ctrl-C in the terminal reaches the kernel only through that pid."""
    cfg = config_from_params(params)
    atomic_write(output_paths(cfg)[1] / KERNEL_PID_NAME, f"{os.getpid()}\n")
    return train(cfg, embedder_path=embedder or None, progress=progress)


def run_training(cfg: TrainConfig, *, embedder: str = "", notebook: bool = True) -> dict[str, Any]:
    """`kit train`: run `train` through notebooks/train.ipynb (papermill) or in-process; returns the metadata.

    Both ways end in the same `train(cfg)` call: the notebook receives the resolved knobs as parameters. Every
    input is checked here first (`preflight`), so a bad knob is one line and exit 3 before a kernel starts; an
    interrupt says where the checkpoints are and how to resume.
    """
    from kit.chain.experiments import record_training

    try:
        if not notebook:
            meta = train(cfg, embedder_path=embedder or None).meta
        else:
            meta = _train_in_notebook(preflight(cfg, embedder), embedder)
    except KeyboardInterrupt:
        _say_resume(cfg)
        raise
    record_training(meta, template=meta.get("template"), score=meta.get("val_score"),
                    score_seconds=meta.get("val_seconds"))
    return meta


def _train_in_notebook(plan: Plan, embedder: str) -> dict[str, Any]:
    """Run notebooks/train.ipynb on the checked plan; the kernel's progress lines stream to stderr."""
    from kit import notebooks
    from kit.packs.prompt_recovery.samples import notebook_path

    # no checkpoint to resume from: the kernel trains from scratch without repeating preflight's notice
    cfg = dataclasses.replace(plan.cfg, resume=plan.resume_from is not None)
    knobs = dataclasses.asdict(cfg) | {"data": str(plan.data.resolve()), "base_model_path": str(plan.base),
                                       "out": str(plan.out), "checkpoint_dir": str(plan.ckpt)}
    executed = plan.ckpt / "train.ipynb"
    before = _identity(plan.out / META_NAME)
    say(f"starting the training notebook (executed copy: {executed})")
    _interruptible(lambda: notebooks.execute(
        notebook_path("train"), executed, {"knobs": knobs, "embedder": embedder, "report": False}, cwd=Path.cwd(),
        stream=True, quiet_kernel=True), plan.ckpt / KERNEL_PID_NAME)  # progress lines stream, chatter to a log
    if _identity(plan.out / META_NAME) in (None, before):  # the folder is replaced whole: a new file, or none
        raise TrainingError(f"the training notebook wrote no new {plan.out / META_NAME}", hint=f"see {executed}")
    return AdapterInfo.load(plan.out).to_dict()


def _interruptible(execute: Callable[[], Any], pid_file: Path) -> None:
    """Run `execute` (the notebook) in a worker thread so that Ctrl-C reaches this thread: papermill's client
    takes SIGINT for itself and the kernel, in a session of its own, would train on. On Ctrl-C the kernel named
    by `pid_file` gets SIGINT (Jupyter's interrupt: a KeyboardInterrupt in its cell), its end is awaited for
    up to KERNEL_STOP_SECONDS, and KeyboardInterrupt goes on up.

    The wait polls an Event with sleep: a Thread.join interrupted by Ctrl-C marks the thread stopped while it
    still runs (CPython 3.11), and the worker must have restored the terminal's stderr before anything is said."""
    pid_file.unlink(missing_ok=True)  # a previous kernel's pid is never signalled
    done, failed = threading.Event(), []

    def work() -> None:
        try:
            execute()
        except BaseException as exc:  # handed to the main thread
            failed.append(exc)
        finally:
            done.set()

    threading.Thread(target=work, name="kit-train-notebook", daemon=True).start()
    try:
        while not done.is_set():
            time.sleep(0.2)
    except KeyboardInterrupt:
        _stop_kernel(done, pid_file)
        raise
    finally:
        pid_file.unlink(missing_ok=True)
    if failed:
        raise failed[0]


def _stop_kernel(done: threading.Event, pid_file: Path) -> None:
    """SIGINT to the kernel as soon as it has written its pid, then wait for the notebook to end."""
    deadline, signalled = time.time() + KERNEL_STOP_SECONDS, False
    while not done.is_set() and time.time() < deadline:
        if not signalled and pid_file.is_file():
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(int(pid_file.read_text(encoding="utf-8")), signal.SIGINT)
            signalled = True
        time.sleep(0.2)


def _identity(path: Path) -> tuple[int, int] | None:
    """(inode, mtime in ns) of `path`, None when it does not exist: tells a rewritten file from the old one."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def _say_resume(cfg: TrainConfig) -> None:
    """After an interrupt: the previous adapter is untouched, and where the run can resume from."""
    out, ckpt = output_paths(cfg)
    last = newest_checkpoint(ckpt)
    kept = f"{out} is unchanged" if out.exists() else f"no adapter was written to {out}"
    if last is None:
        say(f"interrupted before the first checkpoint; {kept}")
    else:
        say(f"interrupted; {kept}; newest checkpoint {last}: rerun the same command with --resume")


_ROW_ORDER = ("train", "val", "dropped", "truncated", "total")  # kit_adapter.json keeps them sorted by name


def summary(meta: dict[str, Any]) -> str:
    """A few human lines about a finished run ('' on non-main processes of a multi-GPU run)."""
    if not meta:
        return ""
    score, rows = meta.get("val_score") or {}, meta.get("rows") or {}
    lines = [f"adapter: {meta['knobs']['out']}", f"steps: {meta['global_step']}  train_loss: {meta['train_loss']:.4f}"
             + (f"  val_loss: {meta['val_loss']:.4f}" if meta.get("val_loss") is not None else ""),
             "rows: " + ", ".join(f"{rows[k]} {k}" for k in _ROW_ORDER if k in rows),
             f"train time: {meta.get('train_seconds', 0):.1f} s on {meta.get('device', '?')}"]
    if score:
        lines.append(f"validation score: {score['mean']:.4f} (95% CI [{score['ci_low']:.4f}, {score['ci_high']:.4f}], "
                     f"n={score['n']}, embedder {score['embedder']})")
        for ex in score.get("examples") or []:
            lines.append(f"  predicted {ex['prediction']!s:.60}  |  label {ex['label']!s:.60}")
    return "\n".join(lines)

