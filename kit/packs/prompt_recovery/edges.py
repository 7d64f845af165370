"""What the prompt-recovery pack gives the kit's edges: its CLI commands, its kit.toml sections and defaults, and
its part of `kit demo` (the config tweaks for a short CPU run, a few training steps on the mini-competition).

A mixin of the pack object (`kit.packs.prompt_recovery.pack.PACK`); light at import time, like the CLI needs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# name -> (module with a click `command`, one-line help). The help lives here so `kit --help` imports no command.
COMMANDS: dict[str, tuple[str, str]] = {
    "templates": ("kit.packs.prompt_recovery.commands.templates", "List the prompt templates."),
    "score": ("kit.packs.prompt_recovery.commands.score",
              "Score predictions against labels with the competition metric."),
    "mean-prompt": ("kit.packs.prompt_recovery.commands.mean_prompt",
                    "Optimise a mean prompt for your prompts and embedder."),
    "make-data": ("kit.packs.prompt_recovery.commands.make_data",
                  "Rewrite texts with prompts into training rows (a rewriter model)."),
    "train": ("kit.packs.prompt_recovery.commands.train",
              "LoRA-train an adapter (renders and runs the training notebook)."),
    "tune": ("kit.packs.prompt_recovery.commands.tune",
             "Pick the re-scoring templates' candidate mix and keep on training rows."),
}
DEMO_TRAIN_ROWS = 40  # 36 to train on, 4 held out for the adapter's local validation score
DEMO_TRAIN = {"batch_size": 1, "grad_accum": 1, "gradient_checkpointing": False, "val_fraction": 0.1,
              "eval_rows": 4, "eval_max_new_tokens": 16}
# Short fields and answers: CPU generation over the hidden rows dominates the demo's run time.
DEMO_INFER = {"max_new_tokens": 16, "max_field_tokens": 96}


class PromptRecoveryEdges:
    """The pack's commands, config sections and demo hooks (see `kit.pack.Pack`)."""

    def commands(self) -> Mapping[str, tuple[str, str]]:
        """`kit templates`, `score`, `mean-prompt`, `make-data`, `train`, `tune`."""
        return COMMANDS

    def config_sections(self) -> Mapping[str, type]:
        """[infer] (the generic one plus the engine's knobs), [train], [score], [mean_prompt]."""
        from kit.packs.prompt_recovery.settings import SECTIONS

        return SECTIONS

    def config_defaults(self) -> Mapping[str, Mapping[str, Any]]:
        """The kernel's slug and title, and the host-only packages of the scorer and trainer."""
        from kit.packs.prompt_recovery.settings import DEFAULTS

        return DEFAULTS

    def demo_config(self, cfg: Any, model: str) -> Any:
        """Short answers and fields for the kernel; the `fewshot` prime trained on the mini-competition."""
        infer = dataclasses.replace(cfg.infer, **DEMO_INFER)
        train = dataclasses.replace(cfg.train, base_model_path=model, data="", template="fewshot")
        return cfg.updated(infer=infer, train=train)

    def train_adapter(self, cfg: Any, out: Path, steps: int) -> dict[str, Any]:
        """A few LoRA steps on the first DEMO_TRAIN_ROWS training rows of the mini-competition."""
        from kit.packs.prompt_recovery.train import train

        data = _head_rows(out.parent / "train.csv", DEMO_TRAIN_ROWS)
        knobs = dataclasses.replace(cfg.train, data=str(data), out=str(out), checkpoint_dir="", max_steps=steps,
                                    save_steps=max(steps, 1), logging_steps=1, resume=False, **DEMO_TRAIN)
        return train(knobs, progress=False).meta


def _head_rows(dest: Path, rows: int) -> Path:
    """The first `rows` records of the mini-competition's train.csv: a few steps never reach the rest."""
    from kit.packs.prompt_recovery.samples import mini_competition_dir
    from kit.tables import copy_head

    return copy_head(mini_competition_dir() / "train.csv", dest, rows)
