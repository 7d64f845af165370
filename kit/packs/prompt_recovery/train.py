"""LoRA training on the answer: knobs, Trainer set-up, resume, flat adapter output, evaluation.

`train(cfg)` is the one code path: `kit train --no-notebook` calls it in-process, notebooks/train.ipynb calls
it through `train_from_params`, and `accelerate launch -m kit train --no-notebook ...` runs it on every GPU
(the Trainer handles the distribution; only the main process saves, evaluates and writes kit_adapter.json).
The base model, LoRA and Trainer set-up live in kit/packs/prompt_recovery/train_model.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit import __version__
from kit.artefacts import ADAPTER_META_NAME as META_NAME
from kit.artefacts import AdapterInfo
from kit.config import coerce, write_json
from kit.errors import ConfigError, TrainingError
from kit.llm.modelsig import signature
from kit.packs.prompt_recovery.settings import TrainConfig
from kit.packs.prompt_recovery.train_data import TRAIN_PRIME, trained_format
from kit.packs.prompt_recovery.train_model import build_trainer, check_4bit

SCHEDULES = ("cosine", "linear", "constant")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
log = logging.getLogger("kit.train")


@dataclass
class TrainResult:
    """Where the adapter went and what kit_adapter.json says about it."""

    out: Path
    meta: dict[str, Any]


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


def config_from_params(params: dict[str, Any]) -> TrainConfig:
    """A validated TrainConfig from plain values (the notebook's parameters); unknown keys are errors."""
    base = TrainConfig()
    known = {f.name for f in dataclasses.fields(base)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ConfigError(f"[train] unknown knob(s) {', '.join(unknown)}")
    values = {k: coerce(v, getattr(base, k), f"[train] {k}") for k, v in params.items()}
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
    out = Path(cfg.out).resolve()
    ckpt = Path(cfg.checkpoint_dir).resolve() if cfg.checkpoint_dir else out.with_name(out.name + "-checkpoints")
    return data, base, out, ckpt


def resolve_precision(precision: str, cuda: bool, bf16_ok: bool) -> str:
    """auto: bf16 where supported, fp16 on older GPUs (T4/P100), fp32 on CPU; explicit values are checked."""
    if precision == "auto":
        return ("bf16" if bf16_ok else "fp16") if cuda else "fp32"
    if precision == "fp16" and not cuda:
        raise ConfigError("[train] precision fp16 needs a CUDA GPU", hint="use fp32 or bf16 on CPU")
    if precision == "bf16" and cuda and not bf16_ok:
        raise ConfigError("[train] this GPU does not support bf16", hint="use precision = \"fp16\"")
    return precision


def git_sha(cwd: Path | None = None) -> str | None:
    """`git rev-parse HEAD` of the working folder, or None outside a repository."""
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _quiet_warnings() -> None:
    # transformers 5 renamed gradient_checkpointing* to activation_checkpointing*; 4.x (Kaggle images) only
    # knows the old spelling, so the kit keeps it and hides the deprecation notice.
    for pattern in (".*gradient_checkpointing.*", ".*is_gradient_checkpointing.*", ".*activation_checkpointing.*"):
        warnings.filterwarnings("ignore", message=pattern, category=FutureWarning)
        warnings.filterwarnings("ignore", message=pattern, category=DeprecationWarning)


# ---------------------------------------------------------------------------- resume and run


RUN_NAME = "kit_run.json"  # what the checkpoints in a checkpoint folder were trained on
_RUN_KEYS = ("data_sha256", "base_model", "template", "lora_r", "lora_alpha", "target_modules", "max_length")


def _start_checkpoint(ckpt: Path, resume: bool, run: dict[str, Any]) -> str | None:
    """The checkpoint to resume from (resume on, same data and model), or None after clearing stale ones."""
    import json

    from transformers.trainer_utils import get_last_checkpoint

    last = get_last_checkpoint(str(ckpt)) if ckpt.is_dir() else None
    if resume and last is not None and (ckpt / RUN_NAME).exists():
        before = json.loads((ckpt / RUN_NAME).read_text(encoding="utf-8"))
        # [] means "every linear layer", which a resolved list from kit_adapter.json also spells out
        changed = [k for k in _RUN_KEYS if k in before and before[k] != run[k]
                   and not (k == "target_modules" and not (before[k] and run[k]))]
        if changed:
            raise ConfigError(f"cannot resume from {last}: {', '.join(changed)} changed since it was saved",
                              hint="train without --resume, or restore the original data and knobs")
    if resume and last is None:
        log.warning("resume: no checkpoint in %s; starting from scratch", ckpt)
    if not resume:
        for stale in ckpt.glob("checkpoint-*") if ckpt.is_dir() else []:
            shutil.rmtree(stale, ignore_errors=True)  # our own folder: old steps would hijack a later resume
    if int(os.environ.get("RANK", 0)) == 0:
        write_json(ckpt / RUN_NAME, run)
    return last if resume else None


def train(cfg: TrainConfig, *, embedder_path: str | Path | None = None, progress: bool = True) -> TrainResult:
    """Train a LoRA adapter on the answer and write the flat adapter folder plus kit_adapter.json."""
    validate(cfg)
    from kit.packs.prompt_recovery.train_data import load_rows

    rows = load_rows(training_data_file(cfg))  # bad data fails before torch is imported (or a model is converted)
    import torch

    threads = torch.get_num_threads()  # restored after: the process (a test session, a notebook) goes on
    if cfg.cpu_threads and not torch.cuda.is_available():
        torch.set_num_threads(cfg.cpu_threads)
    try:
        return _train(cfg, rows, embedder_path, progress)
    finally:
        torch.set_num_threads(threads)


def _train(cfg: TrainConfig, rows: list[dict], embedder_path: str | Path | None, progress: bool) -> TrainResult:
    import torch

    from kit.assets import file_sha256
    from kit.packs.prompt_recovery.templates import get_template
    from kit.packs.prompt_recovery.train_data import split_rows

    data_path, base, out, ckpt = resolve_paths(cfg)
    train_rows, val_rows = split_rows(rows, cfg.val_fraction, cfg.seed)
    _quiet_warnings()
    template = get_template(cfg.template)
    cuda = torch.cuda.is_available()
    if cfg.load_in_4bit:
        check_4bit(cuda)
    # compute capability, not is_bf16_supported(): newer torch reports emulated bf16 on a T4 as supported
    precision = resolve_precision(cfg.precision, cuda, cuda and torch.cuda.get_device_capability()[0] >= 8)
    if not (base / "config.json").exists() and base.exists():
        raise TrainingError(f"base model folder has no config.json: {base}")

    data_sha = file_sha256(data_path)
    run = {"data_sha256": data_sha, "base_model": str(base), "template": cfg.template, "lora_r": cfg.lora_r,
           "lora_alpha": cfg.lora_alpha, "target_modules": list(cfg.target_modules), "max_length": cfg.max_length}
    resume_from = _start_checkpoint(ckpt, cfg.resume, run)
    started = time.time()
    trainer, targets, counts = build_trainer(cfg, base, ckpt, precision, cuda, template, train_rows, val_rows,
                                             progress)
    try:
        # the Trainer prints its loss lines to stdout: keep stdout clean for `--json`
        with contextlib.redirect_stdout(sys.stderr), torch.enable_grad():
            outcome = trainer.train(resume_from_checkpoint=resume_from)
    except torch.cuda.OutOfMemoryError:
        raise TrainingError("out of GPU memory", hint="lower batch_size or max_length, or use --auto-batch-size, "
                            "--gradient-checkpointing, --load-in-4bit") from None
    with contextlib.redirect_stdout(sys.stderr):
        val_loss = trainer.evaluate()["eval_loss"] if trainer.eval_dataset is not None else None
    if not trainer.is_world_process_zero():
        return TrainResult(out=out, meta={})
    _save_flat(trainer, out)
    losses = [(h["step"], h["loss"]) for h in trainer.state.log_history if "loss" in h]
    resolved = dataclasses.asdict(cfg) | {
        "data": str(data_path.resolve()), "base_model_path": str(base), "out": str(out),
        "checkpoint_dir": str(ckpt), "target_modules": targets, "precision": precision,
        "batch_size": trainer.state.train_batch_size or cfg.batch_size,
    }
    meta = AdapterInfo(
        kit_version=__version__, git_sha=git_sha(), base_model=str(base), template=cfg.template,
        prime=TRAIN_PRIME, base_signature=signature(base),
        data_file=str(data_path.resolve()), data_sha256=data_sha,
        rows=counts | {"total": len(rows)}, knobs=resolved,
        train_loss=float(outcome.training_loss), val_loss=None if val_loss is None else float(val_loss),
        loss_history=losses, global_step=trainer.state.global_step, resumed_from=resume_from,
        train_seconds=round(time.time() - started, 2), device="cuda" if cuda else "cpu",
    )
    del trainer, outcome
    from kit.llm.memory import free_memory

    free_memory()
    meta.save(out)  # first, so evaluation reads the format from it as inference will
    eval_started = time.time()
    plain = dataclasses.replace(template, rescore=False)  # validation generates; it has no rewriter to rank with
    score = evaluate(out, base, trained_format(plain, out), val_rows[: cfg.eval_rows], cfg, embedder_path)
    meta = dataclasses.replace(meta, val_score=score, val_seconds=round(time.time() - eval_started, 2))
    meta.save(out)
    return TrainResult(out=out, meta=meta.to_dict())


def _save_flat(trainer: Any, out: Path) -> None:
    """adapter_config.json + adapter_model.safetensors + tokenizer files straight into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    for old in ("adapter_model.safetensors", "adapter_model.bin", "adapter_config.json", META_NAME):
        (out / old).unlink(missing_ok=True)
    trainer.model.save_pretrained(str(out), safe_serialization=True)
    trainer.kit_tokenizer.save_pretrained(str(out))
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
    return {"mean": report.mean, "ci_low": report.ci_low, "ci_high": report.ci_high, "n": report.n,
            "embedder": report.embedder, "examples": [{"prediction": p, "label": r["rewrite_prompt"]}
                                                      for p, r in list(zip(preds, rows, strict=True))[:3]]}


def train_from_params(params: dict[str, Any], embedder: str = "", progress: bool = True) -> TrainResult:
    """Notebook entry: the parameters cell's values -> validated config -> `train`."""
    return train(config_from_params(params), embedder_path=embedder or None, progress=progress)


def run_training(cfg: TrainConfig, *, embedder: str = "", notebook: bool = True) -> dict[str, Any]:
    """`kit train`: run `train` through notebooks/train.ipynb (papermill) or in-process; returns the metadata.

    Both ways end in the same `train(cfg)` call: the notebook receives the resolved knobs as parameters.
    """
    from kit.chain.experiments import record_training
    from kit.packs.prompt_recovery.train_data import load_rows

    validate(cfg)
    if not notebook:  # train() reads (and checks) the data before anything heavy
        meta = train(cfg, embedder_path=embedder or None).meta
        record_training(meta)
        return meta
    from kit import notebooks
    from kit.packs.prompt_recovery.pack import notebook_path

    load_rows(training_data_file(cfg))  # bad data named here, in this process: never as a failed notebook cell
    data, base, out, ckpt = resolve_paths(cfg)
    knobs = dataclasses.asdict(cfg) | {"data": str(data.resolve()), "base_model_path": str(base),
                                       "out": str(out), "checkpoint_dir": str(ckpt)}
    executed = ckpt / "train.ipynb"
    (out / META_NAME).unlink(missing_ok=True)  # never report a previous run's metadata
    notebooks.execute(notebook_path("train"), executed, {"knobs": knobs, "embedder": embedder},
                      cwd=Path.cwd(), stream=True, quiet_kernel=True)  # loss lines stream, chatter to a log
    if not (out / META_NAME).exists():
        raise TrainingError(f"the training notebook wrote no {META_NAME}", hint=f"see {executed}")
    meta = AdapterInfo.load(out).to_dict()
    record_training(meta)
    return meta


def summary(meta: dict[str, Any]) -> str:
    """A few human lines about a finished run ('' on non-main processes of a multi-GPU run)."""
    if not meta:
        return ""
    score = meta.get("val_score") or {}
    lines = [f"adapter: {meta['knobs']['out']}", f"steps: {meta['global_step']}  train_loss: {meta['train_loss']:.4f}"
             + (f"  val_loss: {meta['val_loss']:.4f}" if meta.get("val_loss") is not None else ""),
             "rows: " + ", ".join(f"{v} {k}" for k, v in (meta.get("rows") or {}).items()),
             f"train time: {meta.get('train_seconds', 0):.1f} s on {meta.get('device', '?')}"]
    if score:
        lines.append(f"validation score: {score['mean']:.4f} (95% CI [{score['ci_low']:.4f}, {score['ci_high']:.4f}], "
                     f"n={score['n']}, embedder {score['embedder']})")
        for ex in score.get("examples") or []:
            lines.append(f"  predicted {ex['prediction']!s:.60}  |  label {ex['label']!s:.60}")
    return "\n".join(lines)

