"""LoRA fine-tuning of a causal LM, for any pack: the generic knobs, the base model, the LoRA wrapping, the
Trainer with its progress lines and checkpoint schedule, and the completion-only batch collator.

A pack brings its rows already tokenised (input_ids, labels with IGNORE_INDEX on every prompt token,
attention_mask) and its own config section extending `LoraTrainConfig`; what a row means is the pack's.

Progress is plain `[train] ...` lines on stderr (`say`): in a terminal, and from a notebook's kernel, whose
stderr the kit streams to the terminal (kit.notebooks keeps such lines and drops the Trainer's HTML bar).
"""

from __future__ import annotations

import inspect
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.config import setting
from kit.errors import ConfigError, MissingDependencyError, TrainingError

PROGRESS_SECONDS = 10.0  # a step line at least this often (and at every logging step, the first and the last)
SAVE_PARTS = 4  # a checkpoint at each quarter of the run, so an interrupted short run can resume...
SAVE_MINUTES = 10.0  # ...and at least every 10 minutes of a long one, besides every `save_steps` steps


IGNORE_INDEX = -100  # the label the loss skips: every prompt token of a completion-only example


@dataclass
class LoraTrainConfig:
    """LoRA training knobs any pack's training section extends (`kit train`)."""

    lora_r: int = setting(8, "LoRA rank.")
    lora_alpha: int = setting(16, "LoRA alpha (scale = alpha / r).")
    lora_dropout: float = setting(0.05, "Dropout on the LoRA input.")
    target_modules: list = setting([], "Module names LoRA wraps, e.g. [\"q_proj\", \"v_proj\"]. Empty: every "
                                   "linear projection of the model except lm_head.")
    learning_rate: float = setting(2e-4, "Peak learning rate.")
    lr_scheduler: str = setting("cosine", "Learning-rate schedule after warmup: cosine, linear or constant.")
    warmup_ratio: float = setting(0.03, "Fraction of the optimizer steps spent warming the learning rate up (0-1).")
    max_steps: int = setting(0, "Optimizer steps to train. 0: train for `epochs` instead.")
    epochs: float = setting(1.0, "Passes over the training split (used when max_steps is 0).")
    batch_size: int = setting(4, "Per-device training batch size (the start value when auto_batch_size is on).")
    grad_accum: int = setting(4, "Gradient accumulation steps (effective batch = batch_size x grad_accum x "
                              "devices).")
    gradient_checkpointing: bool = setting(True, "Recompute activations in the backward pass: far less memory, "
                                           "~30% slower.")
    precision: str = setting("auto", "auto (bf16 where supported, fp16 on T4/P100, fp32 on CPU), bf16, fp16 or "
                             "fp32.")
    load_in_4bit: bool = setting(False, "QLoRA: load the base model in 4-bit NF4 (needs CUDA and bitsandbytes).")
    auto_batch_size: bool = setting(False, "Find the largest per-device batch that fits, halving from batch_size "
                                    "on OOM.")
    save_steps: int = setting(50, "Save a resumable checkpoint every N optimizer steps.")
    save_total_limit: int = setting(2, "Checkpoints kept in checkpoint_dir (older ones are deleted).")
    logging_steps: int = setting(5, "Log the training loss every N optimizer steps.")
    max_length: int = setting(2048, "Tokens per training sequence (the pack decides what is cut to fit).")
    seed: int = setting(42, "Seed for the train/validation split, LoRA init and data order.")
    optim: str = setting("adamw_torch", "Optimizer name for transformers (e.g. adamw_torch, paged_adamw_8bit with "
                         "4-bit).")


def say(text: str) -> None:
    """One progress line for the person watching: `[train] text` on stderr (streamed out of notebooks too), from
    the main process only when several train together."""
    if int(os.environ.get("RANK", 0)) == 0:
        print(f"[train] {text}", file=sys.stderr, flush=True)


def check_4bit(cuda: bool) -> None:
    """MissingDependencyError unless 4-bit loading can work here (a CUDA GPU and bitsandbytes)."""
    if not cuda:
        raise MissingDependencyError("load_in_4bit needs a CUDA GPU", hint="drop --load-in-4bit on CPU")
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise MissingDependencyError("load_in_4bit needs bitsandbytes", hint="pip install bitsandbytes") from None


# ---------------------------------------------------------------------------- model


def linear_module_names(model: Any) -> list[str]:
    """Leaf names of every linear projection (plain or 4-bit), lm_head excluded, sorted."""
    names = set()
    for full, module in model.named_modules():
        leaf = full.rsplit(".", 1)[-1]
        if leaf != "lm_head" and type(module).__name__ in ("Linear", "Linear4bit", "Linear8bitLt"):
            names.add(leaf)
    return sorted(names)


def load_model(base: Path, precision: str, load_in_4bit: bool, gradient_checkpointing: bool) -> Any:
    """The frozen base model in the training dtype (or 4-bit NF4), ready for LoRA."""
    import torch
    from transformers import AutoModelForCausalLM

    from kit.llm.loading import dtype_kwargs, four_bit_kwargs

    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[precision]
    kwargs: dict[str, Any] = dtype_kwargs(dtype)  # dtype= in transformers 5, torch_dtype= in 4.x
    if load_in_4bit:  # each training process (torchrun) on its own GPU
        compute = dtype if precision != "fp32" else torch.float16
        kwargs |= four_bit_kwargs(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}", compute)
    try:
        model = AutoModelForCausalLM.from_pretrained(str(base), **kwargs)
    except OSError as exc:
        raise TrainingError(f"cannot load base model {base}: {str(exc).splitlines()[0]}") from None
    model.config.use_cache = False  # the cache is useless in training and conflicts with checkpointing
    if load_in_4bit:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False})
    return model


def _check_targets(targets: list[str], available: list[str]) -> None:
    """ConfigError naming the target modules the model does not have, and the ones it has."""
    unknown = sorted(set(targets) - set(available))
    if unknown:
        raise ConfigError(f"[train] target_modules not in this model: {', '.join(unknown)}",
                          hint=f"linear modules: {', '.join(sorted(available))}")


def check_target_modules(base: Path, targets: list[str]) -> None:
    """`_check_targets` against the model built from its config on the meta device: no weights are read."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(str(base)))
    _check_targets(targets, linear_module_names(model))


def add_lora(model: Any, cfg: LoraTrainConfig) -> tuple[Any, list[str]]:
    """Wrap `model` with a fresh LoRA adapter; returns (peft model, resolved target modules)."""
    from peft import LoraConfig, get_peft_model

    targets = list(cfg.target_modules) or linear_module_names(model)
    _check_targets(targets, linear_module_names(model))
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout, bias="none",
                      task_type="CAUSAL_LM", target_modules=targets)
    return get_peft_model(model, lora), targets


# ---------------------------------------------------------------------------- trainer


def training_args(cfg: LoraTrainConfig, ckpt: Path, precision: str, cuda: bool) -> Any:
    """TrainingArguments for the knobs, spelled for the installed transformers (4.x or 5.x)."""
    from transformers import TrainingArguments

    accepted = inspect.signature(TrainingArguments.__init__).parameters
    kwargs: dict[str, Any] = dict(
        output_dir=str(ckpt), per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size, gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.learning_rate, lr_scheduler_type=cfg.lr_scheduler, max_steps=cfg.max_steps or -1,
        num_train_epochs=cfg.epochs, logging_steps=cfg.logging_steps, save_strategy="steps",
        save_steps=cfg.save_steps, save_total_limit=cfg.save_total_limit, seed=cfg.seed, data_seed=cfg.seed,
        bf16=precision == "bf16", fp16=precision == "fp16", use_cpu=not cuda, optim=cfg.optim,
        gradient_checkpointing=cfg.gradient_checkpointing and not cfg.load_in_4bit,
        gradient_checkpointing_kwargs={"use_reentrant": False}, auto_find_batch_size=cfg.auto_batch_size,
        remove_unused_columns=False, report_to=[], dataloader_pin_memory=cuda, eval_strategy="no",
        disable_tqdm=True, ddp_find_unused_parameters=False,  # `Progress` prints the steps, in notebooks too
    )
    # warmup: 4.x has warmup_ratio; 5.x dropped it and reads a float warmup_steps < 1 as the ratio
    if "warmup_ratio" in accepted:
        kwargs["warmup_ratio"] = cfg.warmup_ratio
    else:
        kwargs["warmup_steps"] = cfg.warmup_ratio
    if "eval_strategy" not in accepted:
        kwargs["evaluation_strategy"] = kwargs.pop("eval_strategy")
    if not cuda and "use_cpu" not in accepted:
        kwargs["no_cuda"] = kwargs.pop("use_cpu")
    return TrainingArguments(**kwargs)


def build_trainer(cfg: LoraTrainConfig, base: Path, ckpt: Path, precision: str, cuda: bool, tokenizer: Any,
                  train_examples: list[dict], val_examples: list[dict]) -> tuple[Any, list[str]]:
    """Load the base model with a fresh LoRA adapter and wrap it and the tokenised examples in a Trainer that
    prints progress lines and saves on the kit's schedule. Returns (trainer, resolved target modules)."""
    from transformers import Trainer
    from transformers.trainer_callback import PrinterCallback

    say(f"loading the base model {base} ({precision})")
    model = load_model(base, precision, cfg.load_in_4bit, cfg.gradient_checkpointing)
    model, targets = add_lora(model, cfg)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    args = training_args(cfg, ckpt, precision, cuda)
    # the tokenizer is saved with every checkpoint; transformers 4.x calls the argument `tokenizer`
    accepted = inspect.signature(Trainer.__init__).parameters
    tok_arg = "processing_class" if "processing_class" in accepted else "tokenizer"
    trainer = Trainer(model=model, args=args, train_dataset=train_examples, eval_dataset=val_examples or None,
                      data_collator=Collator(pad), **{tok_arg: tokenizer})
    trainer.remove_callback(PrinterCallback)  # raw log dicts; `progress_printer` says the same in one line
    trainer.add_callback(progress_printer())
    trainer.add_callback(checkpoint_schedule())
    return trainer, targets


class Collator:
    """Right-pad a batch: pad id for inputs, IGNORE_INDEX for labels, 0 for the attention mask."""

    def __init__(self, pad_token_id: int, pad_to_multiple_of: int | None = None) -> None:
        self.pad_token_id = pad_token_id
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, batch: list[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        width = max(len(ex["input_ids"]) for ex in batch)
        if self.pad_to_multiple_of:
            width = -(-width // self.pad_to_multiple_of) * self.pad_to_multiple_of
        fills = {"input_ids": self.pad_token_id, "labels": IGNORE_INDEX, "attention_mask": 0}
        return {
            key: torch.tensor([ex[key] + [fill] * (width - len(ex[key])) for ex in batch], dtype=torch.long)
            for key, fill in fills.items()
        }


def resolve_precision(precision: str, cuda: bool, bf16_ok: bool) -> str:
    """auto: bf16 where supported, fp16 on older GPUs (T4/P100), fp32 on CPU; explicit values are checked."""
    if precision == "auto":
        return ("bf16" if bf16_ok else "fp16") if cuda else "fp32"
    if precision == "fp16" and not cuda:
        raise ConfigError("[train] precision fp16 needs a CUDA GPU", hint="use fp32 or bf16 on CPU")
    if precision == "bf16" and cuda and not bf16_ok:
        raise ConfigError("[train] this GPU does not support bf16", hint="use precision = \"fp16\"")
    return precision


def newest_checkpoint(ckpt: Path) -> Path | None:
    """The complete checkpoint with the highest step in `ckpt` (the Trainer's `checkpoint-<step>` folders), or
    None. The Trainer writes trainer_state.json last, so a checkpoint cut off while saving is passed over."""
    steps = [(int(p.name.split("-", 1)[1]), p) for p in ckpt.glob("checkpoint-*")
             if p.name.split("-", 1)[1].isdigit() and (p / "trainer_state.json").is_file()] if ckpt.is_dir() else []
    return max(steps)[1] if steps else None


def duration(seconds: float) -> str:
    """A short human duration: 45s, 3m05s, 2h03m."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def rate(seconds_each: float, unit: str = "step", units: str = "steps") -> str:
    """s/step for slow steps, steps/s for fast ones (or another unit: micro-batch, micro-batches)."""
    if seconds_each >= 1:
        return f"{seconds_each:.1f} s/{unit}"
    return f"{1 / max(seconds_each, 1e-9):.1f} {units}/s"


def progress_printer() -> Any:
    """A callback printing `step n/N`, the rate and the time left from the first step on (with the loss on
    logging steps): at the first and last step, every logging step, and otherwise after a step ending
    PROGRESS_SECONDS or more after the last line. With gradient accumulation the first step also reports its
    micro-batches, so a slow CPU run shows its pace (and a first estimate) before a whole step is done."""
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.started, self.first, self.shown, self.micro = time.time(), state.global_step, 0.0, 0
            self.pending: tuple[str, str] | None = None  # (step, rate and ETA) waiting for its loss
            if state.is_world_process_zero:
                resumed = f", resuming after step {state.global_step}" if state.global_step else ""
                say(f"training: {state.max_steps} optimizer steps{resumed}; checkpoints in {args.output_dir}")

        def on_substep_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.micro += 1
            now, accum = time.time(), args.gradient_accumulation_steps
            if state.global_step != self.first or not state.is_world_process_zero or (
                    self.micro > 1 and now - self.shown < PROGRESS_SECONDS):
                return  # only the first step of a session: later steps have their own lines
            per_micro = (now - self.started) / self.micro
            left = accum * (state.max_steps - state.global_step) - self.micro
            say(f"step {state.global_step + 1}/{state.max_steps}: micro-batch {self.micro}/{accum}  "
                f"{rate(per_micro, 'micro-batch', 'micro-batches')}  ETA ~{duration(per_micro * left)}")
            self.shown = now

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            now, step = time.time(), state.global_step
            due = step == self.first + 1 or step >= state.max_steps or now - self.shown >= PROGRESS_SECONDS
            if not state.is_world_process_zero or not (due or control.should_log):
                return
            per_step = (now - self.started) / max(1, step - self.first)
            self.pending = (f"step {step}/{state.max_steps}", f"{rate(per_step)}  "
                            f"ETA {duration(per_step * (state.max_steps - step))}")
            self.shown = now
            if not control.should_log:  # a logging step prints in on_log, with its loss
                self._print()

        def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
            if self.pending and logs and "loss" in logs:
                self._print(f"loss {logs['loss']:.4f}  lr {logs.get('learning_rate', 0):.3g}")

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.pending:
                self._print()

        def _print(self, loss: str = "") -> None:
            where, speed = self.pending or ("", "")
            say("  ".join(part for part in (where, loss, speed) if part))
            self.pending = None

    return Progress()


def checkpoint_schedule() -> Any:
    """A callback saving a checkpoint at each of the SAVE_PARTS parts of the run and after SAVE_MINUTES without
    one (the Trainer itself saves every `save_steps` steps and at the end), so --resume has a recent
    checkpoint however short or slow the run."""
    from transformers import TrainerCallback

    class Schedule(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.marks = {state.max_steps * k // SAVE_PARTS for k in range(1, SAVE_PARTS)} - {0}
            self.saved = time.time()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.global_step in self.marks or time.time() - self.saved >= SAVE_MINUTES * 60:
                control.should_save = True

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.saved = time.time()

    return Schedule()
