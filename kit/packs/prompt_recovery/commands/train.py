"""`kit train`: LoRA-train an adapter on the answer (every [train] key of kit.toml is also a flag here)."""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from kit.commands._common import config_from, emit, json_option
from kit.config import override
from kit.packs.prompt_recovery.settings import TrainConfig

# kit.toml key -> flag name where the flag is not simply the key with dashes
_FLAG_NAMES = {"base_model_path": "base"}
_EPILOG = """\b
Multi-GPU: the same code under accelerate or torchrun (one process per GPU; only rank 0 writes the adapter):
  accelerate launch --multi_gpu --num_processes 2 -m kit train --no-notebook --data train.csv --base MODEL
  torchrun --nproc_per_node 2 -m kit train --no-notebook --data train.csv --base MODEL
The adapter folder (--out) is replaced only when a run completes: a failed or interrupted run leaves the previous
adapter as it was. Checkpoints go to <out>-checkpoints (or --checkpoint-dir) at each quarter of the run, at least
every 10 minutes and every --save-steps steps; after an interrupt, rerun the same command with --resume.
"""


def _knob_options(func: Any) -> Any:
    """One click option per TrainConfig field, help text from the field; None means 'kit.toml decides'."""
    for f in reversed(dataclasses.fields(TrainConfig)):
        flag = "--" + _FLAG_NAMES.get(f.name, f.name).replace("_", "-")
        help_text = f.metadata.get("help", "")
        if isinstance(f.default, bool):
            decl = f"{flag}/--no-{flag[2:]}"
            func = click.option(decl, f.name, default=None, help=help_text)(func)
            continue
        if f.default is dataclasses.MISSING:  # list fields (target_modules): comma-separated on the command line
            kind: Any = str
            help_text += " Comma-separated on the command line."
        else:
            kind = type(f.default)
        func = click.option(flag, f.name, type=kind, default=None, help=help_text)(func)
    return func


@click.command("train", epilog=_EPILOG)
@_knob_options
@click.option("--no-notebook", is_flag=True, help="Call the training function in-process instead of papermill.")
@click.option("--embedder", default=None, help="Embedder folder for the validation score (default: [score] embedder).")
@json_option
@click.pass_context
def command(ctx: click.Context, no_notebook: bool, embedder: str | None, as_json: bool, **knobs: Any) -> None:
    """LoRA-train an adapter on the answer, then score it on a validation subset.

    Every knob, the data, the base model and whether max_length fits the template are checked first. By default
    this then runs notebooks/prompt_recovery/train.ipynb with papermill (the executed copy lands in the checkpoint
    folder), streaming its progress (step n/N, rate, time left); --no-notebook runs the same library function in this
    process. Defaults: the mini-competition's training rows and the embedded instruct model.
    """
    from kit.packs.prompt_recovery.train import run_training, summary

    cfg = config_from(ctx)
    if knobs.get("target_modules") is not None:
        knobs["target_modules"] = [m.strip() for m in knobs["target_modules"].split(",") if m.strip()]
    train_cfg = override(cfg.section("train"), **knobs)
    meta = run_training(train_cfg, embedder=embedder if embedder is not None else cfg.section("score").embedder,
                        notebook=not no_notebook)
    emit(meta, as_json, text=summary(meta))
