"""The model and Trainer set-up behind `kit.packs.prompt_recovery.train.train`: base model, LoRA wrapping,
training arguments.

Split from kit/packs/prompt_recovery/train.py (which keeps the run itself: knobs, resume, flat output,
evaluation); every function here is called only from there.
"""

from __future__ import annotations

import inspect
import logging
import os
import sys
from pathlib import Path
from typing import Any

from kit.errors import ConfigError, MissingDependencyError, TrainingError
from kit.packs.prompt_recovery.settings import TrainConfig

log = logging.getLogger("kit.train")  # the same logger as kit.packs.prompt_recovery.train: one name for the whole run


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


def add_lora(model: Any, cfg: TrainConfig) -> tuple[Any, list[str]]:
    """Wrap `model` with a fresh LoRA adapter; returns (peft model, resolved target modules)."""
    from peft import LoraConfig, get_peft_model

    targets = list(cfg.target_modules) or linear_module_names(model)
    available = set(linear_module_names(model))
    unknown = sorted(set(targets) - available)
    if unknown:
        raise ConfigError(f"[train] target_modules not in this model: {', '.join(unknown)}",
                          hint=f"linear modules: {', '.join(sorted(available))}")
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
        disable_tqdm=False, ddp_find_unused_parameters=False,
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

    from kit.packs.prompt_recovery.train_data import Collator, encode_rows

    set_seed(cfg.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    train_enc = encode_rows(tokenizer, template, train_rows, cfg.max_length, progress, "tokenise train")
    val_enc = encode_rows(tokenizer, template, val_rows, cfg.max_length, progress, "tokenise val")
    if not train_enc.examples:
        raise ConfigError(f"[train] max_length {cfg.max_length} fits no training row's answer",
                          hint="raise max_length")
    if train_enc.dropped or val_enc.dropped:
        log.warning("dropped %d rows whose answer does not fit max_length=%d", train_enc.dropped + val_enc.dropped,
                    cfg.max_length)
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
    trainer.add_callback(loss_printer())
    counts = {"train": len(train_enc.examples), "val": len(val_enc.examples),
              "dropped": train_enc.dropped + val_enc.dropped, "truncated": train_enc.truncated + val_enc.truncated}
    return trainer, targets, counts


def loss_printer() -> Any:
    """A callback printing one plain line per logging step (notebooks show the Trainer's bar as HTML only)."""
    from transformers import TrainerCallback

    class LossPrinter(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
            if state.is_world_process_zero and logs and "loss" in logs:
                print(f"[train] step {state.global_step}/{state.max_steps} loss {logs['loss']:.4f} "
                      f"lr {logs.get('learning_rate', 0):.3g}", file=sys.stderr, flush=True)

    return LossPrinter()
