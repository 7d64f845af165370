"""LLM Prompt Recovery as generic code sees it: the `kit.pack.Pack` registered under the `kit.packs` entry point
`llm-prompt-recovery` (pyproject.toml).

Everything here is cheap to import (`kit --help` finds packs): the pack's heavier modules load when used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kit.pack import EmulatorView, KernelSpec, PackDefaults, Recipe, SubmissionSpec
from kit.packs.prompt_recovery.kernel import HIDDEN_ROWS
from kit.packs.prompt_recovery.params import COMPETITION, InferParams
from kit.packs.prompt_recovery.samples import NOTEBOOKS
from kit.packs.prompt_recovery.settings import DEFAULTS, RECOMMENDED, SECTIONS

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
MODEL_SOURCES = {"rewriter": "the model re-scoring templates (rescore, rescore-single) rank candidate prompts with, "
                              "e.g. the Gemma 7B-it Kaggle Model the host rewrote with"}
DEMO_TRAIN_ROWS = 40  # 36 to train on, 4 held out for the adapter's local validation score
DEMO_TRAIN = {"batch_size": 1, "grad_accum": 1, "gradient_checkpointing": False, "val_fraction": 0.1,
              "eval_rows": 4, "eval_max_new_tokens": 16}
# Short fields and answers: CPU generation over the hidden rows dominates the demo's run time.
DEMO_INFER = {"max_new_tokens": 16, "max_field_tokens": 96}


class PromptRecovery(PackDefaults):
    """The llm-prompt-recovery competition: rewrite prompts scored by sentence-t5 sharpened cosine similarity."""

    slug = COMPETITION
    title = "LLM Prompt Recovery"
    submission = SubmissionSpec(("id", "rewrite_prompt"))
    kernel = KernelSpec(notebook=NOTEBOOKS / "infer.ipynb", params=InferParams, hidden_rows=HIDDEN_ROWS,
                        labels_file="test_labels.csv")

    command_table = COMMANDS
    section_table = SECTIONS  # [infer] (the generic one plus the engine's knobs), [train], [score], [mean_prompt]
    default_table = DEFAULTS  # the kernel's slug and title, the host-only packages of the scorer and trainer
    model_source_table = MODEL_SOURCES
    trains = True  # `kit demo` trains a LoRA adapter for the recipes that load a model
    advice = RECOMMENDED

    def recipes(self) -> Mapping[str, Recipe]:
        """The registered prompt templates: those with primes load the model, re-scoring ones the rewriter."""
        from kit.packs.prompt_recovery.templates import list_templates

        return {t.name: Recipe(t.name, t.summary, needs_model=bool(t.primes),
                               model_sources=("rewriter",) if t.rescore else ())
                for t in list_templates()}

    def check_data(self, folder: Path) -> int:
        """test.csv with its columns and unique ids; the labels, when present, for every id (InputError)."""
        from kit.packs.prompt_recovery.inputs import check_test_folder

        return check_test_folder(Path(folder), self.kernel.labels_file)

    def mini_competition(self) -> Path:
        """The bundled mini-competition: rows the embedded instruct model rewrote with known prompts."""
        from kit.packs.prompt_recovery.samples import mini_competition_dir

        return mini_competition_dir()

    def score(self, submission: Path, labels: Path, **options: Any) -> dict[str, Any]:
        """The metric over the ids the submission holds (a --rows run covers only some). Options: `embedder` (a
        folder), else `config` (a KitConfig) whose [score] embedder is used, else the bundled proxy. Carries a human
        `note` when the suffix was removed."""
        from kit.packs.prompt_recovery.metric import describe_suffix

        result = self._report(submission, labels, options).to_dict()
        if result.get("suffix_removed"):
            result["note"] = describe_suffix(result)
        return result

    def row_scores(self, submission: Path, labels: Path, **options: Any) -> dict[str, float]:
        """The sharpened cosine of each row `score` averages (same embedder, same suffix rule), by id."""
        report = self._report(submission, labels, options)
        return dict(zip(report.ids, report.per_row, strict=True))

    def _report(self, submission: Path, labels: Path, options: dict[str, Any]) -> Any:
        """The metric's ScoreReport (per-row scores included) for the submission's ids; options as for `score`."""
        from kit.errors import InputError
        from kit.packs.prompt_recovery.metric import load_embedder, score
        from kit.tables import read_rows

        key, value = self.submission.columns
        preds = {r[key]: r[value] for r in read_rows(submission, required=self.submission.columns)}
        labels_of = {r[key]: r[value] for r in read_rows(labels, required=self.submission.columns)}
        missing = [i for i in preds if i not in labels_of]
        if missing:
            raise InputError(f"{labels}: no label for {len(missing)} submission id(s), first: {missing[0]!r}")
        config = options.get("config")
        embedder = options.get("embedder") or (config.section("score").embedder if config is not None else "") or None
        return score(preds, {i: labels_of[i] for i in preds}, load_embedder(embedder))

    def emulator(self) -> EmulatorView:
        """The sandbox's competition: public files, the hidden set for re-runs, the public/private scorer."""
        from kit.packs.prompt_recovery.competition import EMULATED

        return EMULATED

    def adapter_fields(self) -> type:
        """The prompt format an adapter was trained in and its validation score."""
        from kit.packs.prompt_recovery.adapter import PromptRecoveryAdapter

        return PromptRecoveryAdapter

    def demo_config(self, cfg: Any, model: str) -> Any:
        """Short answers and fields for the kernel; the `fewshot` prime trained on the mini-competition."""
        infer = dataclasses.replace(cfg.infer, **DEMO_INFER)
        train = dataclasses.replace(cfg.section("train"), base_model_path=model, data="", template="fewshot")
        return cfg.updated(infer=infer, train=train)

    def train_adapter(self, cfg: Any, out: Path, steps: int) -> dict[str, Any]:
        """A few LoRA steps on the first DEMO_TRAIN_ROWS training rows of the mini-competition."""
        from kit.packs.prompt_recovery.train import train

        data = _head_rows(out.parent / "train.csv", DEMO_TRAIN_ROWS)
        knobs = dataclasses.replace(cfg.section("train"), data=str(data), out=str(out), checkpoint_dir="",
                                    max_steps=steps, save_steps=max(steps, 1), logging_steps=1, resume=False,
                                    **DEMO_TRAIN)
        return train(knobs, progress=False).meta


def _head_rows(dest: Path, rows: int) -> Path:
    """The first `rows` records of the mini-competition's train.csv: a few steps never reach the rest."""
    from kit.packs.prompt_recovery.samples import mini_competition_dir
    from kit.tables import copy_head

    return copy_head(mini_competition_dir() / "train.csv", dest, rows)


PACK = PromptRecovery()
