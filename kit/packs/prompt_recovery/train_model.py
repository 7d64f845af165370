"""The model and Trainer set-up behind `kit.packs.prompt_recovery.train.train`: base model, LoRA wrapping,
training arguments.

Split from kit/packs/prompt_recovery/train.py (which keeps the run itself: knobs, resume, flat output,
evaluation); every function here is called only from there.

Progress is plain `[train] ...` lines on stderr (`say`): in a terminal, and from the notebook's kernel, whose
stderr `kit train` streams to the terminal (kit.notebooks keeps such lines and drops the Trainer's HTML bar).
"""

from __future__ import annotations

import inspect
import os
import sys
import time
from pathlib import Path
from typing import Any

from kit.errors import ConfigError, MissingDependencyError, TrainingError
from kit.packs.prompt_recovery.settings import TrainConfig

PROGRESS_SECONDS = 10.0  # a step line at least this often (and at every logging step, the first and the last)
SAVE_PARTS = 4  # a checkpoint at each quarter of the run, so an interrupted short run can resume...
SAVE_MINUTES = 10.0  # ...and at least every 10 minutes of a long one, besides every `save_steps` steps


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

    from kit.llm.loading import dtype_kwargs

    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[precision]
    kwargs: dict[str, Any] = dtype_kwargs(dtype)  # dtype= in transformers 5, torch_dtype= in 4.x
    if load_in_4bit:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype if precision != "fp32" else torch.float16)
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", 0))}
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


def add_lora(model: Any, cfg: TrainConfig) -> tuple[Any, list[str]]:
    """Wrap `model` with a fresh LoRA adapter; returns (peft model, resolved target modules)."""
    from peft import LoraConfig, get_peft_model

    targets = list(cfg.target_modules) or linear_module_names(model)
    _check_targets(targets, linear_module_names(model))
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout, bias="none",
                      task_type="CAUSAL_LM", target_modules=targets)
    return get_peft_model(model, lora), targets


# ---------------------------------------------------------------------------- trainer


def training_args(cfg: TrainConfig, ckpt: Path, precision: str, cuda: bool) -> Any:
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


def build_trainer(cfg: TrainConfig, base: Path, ckpt: Path, precision: str, cuda: bool, template: Any,
                  train_rows: list[dict], val_rows: list[dict], progress: bool) -> tuple[Any, list[str], dict]:
    """Tokenise the rows, load the base model with a fresh LoRA adapter and wrap it all in a Trainer.

    Returns (trainer, resolved target modules, row counts)."""
    from transformers import AutoTokenizer, Trainer, set_seed
    from transformers.trainer_callback import PrinterCallback

    from kit.packs.prompt_recovery.train_data import Collator, encode_rows

    set_seed(cfg.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    say(f"tokenising {len(train_rows)} training and {len(val_rows)} validation rows")
    train_enc = encode_rows(tokenizer, template, train_rows, cfg.max_length, progress, "tokenise train")
    val_enc = encode_rows(tokenizer, template, val_rows, cfg.max_length, progress, "tokenise val")
    if not train_enc.examples:  # preflight checks the shortest answer; this is every training row's
        raise ConfigError(f"[train] max_length {cfg.max_length} fits no training row's answer",
                          hint="raise max_length")
    if train_enc.dropped or val_enc.dropped:
        say(f"dropped {train_enc.dropped + val_enc.dropped} rows whose answer does not fit max_length "
            f"{cfg.max_length}")
    say(f"loading the base model {base} ({precision})")
    model = load_model(base, precision, cfg.load_in_4bit, cfg.gradient_checkpointing)
    model, targets = add_lora(model, cfg)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    args = training_args(cfg, ckpt, precision, cuda)
    # the tokenizer is saved with every checkpoint; transformers 4.x calls the argument `tokenizer`
    accepted = inspect.signature(Trainer.__init__).parameters
    tok_arg = "processing_class" if "processing_class" in accepted else "tokenizer"
    trainer = Trainer(model=model, args=args, train_dataset=train_enc.examples,
                      eval_dataset=val_enc.examples or None, data_collator=Collator(pad), **{tok_arg: tokenizer})
    trainer.kit_tokenizer = tokenizer
    trainer.remove_callback(PrinterCallback)  # raw log dicts; `progress_printer` says the same in one line
    trainer.add_callback(progress_printer())
    trainer.add_callback(checkpoint_schedule())
    counts = {"train": len(train_enc.examples), "val": len(val_enc.examples),
              "dropped": train_enc.dropped + val_enc.dropped, "truncated": train_enc.truncated + val_enc.truncated}
    return trainer, targets, counts


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
