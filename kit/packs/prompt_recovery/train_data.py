"""Training data for LoRA: load the table, split it, tokenise with completion-only labels.

Each example is the template's prompt (ending right at the answer marker, prime="") followed by the target
`" " + rewrite_prompt + eos` (the marker's trailing space moves into the target, see `split_tokens`). Labels
are -100 on every prompt token, so the loss covers the answer only: the seed notebook trained on the prompt
alone and never on the answer (see research/competition.md 1.4). When a
row is longer than `max_length`, original_text and rewritten_text are cut per field (the template's
`max_field_tokens`), never the answer; a row whose answer does not fit even with empty fields is dropped.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.errors import ConfigError, InputError
from kit.llm.lora import IGNORE_INDEX, say
from kit.tables import read_rows

COLUMNS = ("original_text", "rewrite_prompt", "rewritten_text")
# Training renders the prompt with no prime and learns the whole rewrite_prompt (its first verb included), so
# an adapter predicts from this prime; kit_adapter.json records it and inference uses it (`trained_format`).
TRAIN_PRIME = ""


def trained_format(template: Any, adapter: Path | str) -> Any:
    """`template` with the prompt format (examples) and the single prime its adapter was trained with, as
    recorded in the adapter's kit_adapter.json; `template` unchanged when there is no such record.

    An adapter learnt to answer the training template's prompt from its prime; forcing other primes (e.g.
    "Improve this text by" while the labels start "Rewrite...", "Turn...") fights what it learnt. The
    assembler (single, concat, re-scoring) stays the caller's template's. A template without primes (mean) loads
    no model and stays as it is; a re-scoring template keeps its own primes after the adapter's, so there are
    still candidates to rank.
    """
    import dataclasses

    from kit.artefacts import AdapterInfo
    from kit.packs.prompt_recovery.adapter import PromptRecoveryAdapter
    from kit.packs.prompt_recovery.templates import get_template

    if not template.primes:
        return template
    info = AdapterInfo.find(adapter)
    meta = info.extra if info is not None else None
    if not isinstance(meta, PromptRecoveryAdapter) or not meta.trained_format:
        return template  # no record, or one another pack (or no pack) wrote: it says nothing of our formats
    trained = get_template(str(meta.template))
    primes = (str(meta.prime),) + (template.primes if template.rescore else ())
    return dataclasses.replace(template, examples=trained.examples, primes=tuple(dict.fromkeys(primes)))


def load_rows(path: Path) -> list[dict[str, str]]:
    """Read a CSV or parquet file into rows of the three text columns (extra columns are ignored).

    Raises one-line InputErrors for a missing file, an unknown format, an empty file, a missing column,
    or a value that is not text.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"training data not found: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        records = read_rows(path, required=COLUMNS)
    elif suffix in (".parquet", ".pq"):
        records = _parquet_rows(path)
    else:
        raise InputError(f"{path}: unknown data format '{suffix}'", hint="use .csv or .parquet")
    if not records:
        raise InputError(f"{path}: file has a header but no rows")
    rows = []
    for i, record in enumerate(records, start=1):
        row = {col: record[col] for col in COLUMNS}
        for col, value in row.items():
            if not isinstance(value, str):
                raise InputError(f"{path}: row {i} column {col} is not text ({type(value).__name__} {value!r})")
        if not row["rewrite_prompt"].strip():
            raise InputError(f"{path}: row {i} has an empty rewrite_prompt")
        rows.append(row)
    return rows


def _parquet_rows(path: Path) -> list[dict]:
    """The text columns of a parquet file as records (values as stored: the caller checks they are text)."""
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # parser errors: one line naming the file
        raise InputError(f"{path}: cannot read: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}", hint=f"needs {', '.join(COLUMNS)}")
    return frame[list(COLUMNS)].to_dict("records")


def split_rows(rows: list[dict], val_fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """Deterministic shuffle-and-split by `seed`: (train, validation). Keeps at least one training row."""
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_val = int(round(len(rows) * val_fraction)) if val_fraction > 0 else 0
    if val_fraction > 0 and len(rows) >= 2:
        n_val = max(1, n_val)
    n_val = min(n_val, len(rows) - 1)
    val = [rows[i] for i in order[:n_val]]
    train = [rows[i] for i in order[n_val:]]
    return train, val


@dataclass
class Encoded:
    """Tokenised examples plus what was dropped or truncated on the way."""

    examples: list[dict[str, list[int]]]
    dropped: int = 0
    truncated: int = 0


def split_tokens(tokenizer: Any, prompt_text: str, answer: str) -> tuple[list[int], list[int]]:
    """(prompt ids, answer ids + EOS) for the training text `prompt` + " " + `answer`.

    The text is tokenised in one piece, as inference tokenises the prompt plus its prime: the marker's
    trailing space is moved into the answer (`The request was:` | ` Rewrite ...`), so a model trained here
    sees the same token boundary as at generation time (tokenising the parts separately would teach it a
    double space). The split falls at the first token that reaches past the marker (character offsets);
    tokenizers without offsets fall back to tokenising the two parts separately.
    """
    core = prompt_text.rstrip(" ")
    text = core + " " + answer
    try:
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = enc["offset_mapping"]
    except (NotImplementedError, TypeError, ValueError, KeyError):  # slow tokenizers: no offsets
        prompt = tokenizer(core, add_special_tokens=False)["input_ids"]
        target = tokenizer(" " + answer, add_special_tokens=False)["input_ids"]
    else:
        ids = enc["input_ids"]
        cut = next((i for i, (_, end) in enumerate(offsets) if end > len(core)), len(ids))
        prompt, target = ids[:cut], ids[cut:]
    return prompt, target + [tokenizer.eos_token_id]


def encode_row(tokenizer: Any, template: Any, row: dict[str, str], max_length: int) -> dict[str, Any] | None:
    """input_ids/labels/attention_mask (+ a `truncated` flag) for one row; None when the answer cannot fit.

    Labels are -100 on the prompt; the answer (`" " + rewrite_prompt` + EOS) is always complete.
    """
    if tokenizer.eos_token_id is None:
        raise ConfigError("the tokenizer has no eos token; cannot mark the end of the answer")

    def encode(limit: int | None) -> tuple[list[int], list[int]]:
        text = template.render_prompt(tokenizer, row["original_text"], row["rewritten_text"], prime="",
                                      max_field_tokens=limit)
        return split_tokens(tokenizer, text, row["rewrite_prompt"])

    prompt, target = encode(None)
    truncated = len(prompt) + len(target) > max_length
    if truncated:
        prompt = _largest_fitting(encode, row, tokenizer, len(prompt) + len(target) - max_length, max_length)
        if prompt is None:
            return None
    return {
        "input_ids": prompt + target,
        "labels": [IGNORE_INDEX] * len(prompt) + target,
        "attention_mask": [1] * (len(prompt) + len(target)),
        "truncated": truncated,
    }


def _largest_fitting(encode: Any, row: dict[str, str], tokenizer: Any, over: int, max_length: int) -> list[int] | None:
    """The prompt ids with the largest per-field token limit that fit in `max_length` with the answer, or None.

    Rendering the chat template is the costly part, so the limit is first estimated from the field lengths
    (each field loses max(0, length - limit) tokens), then lowered by the measured overshoot until it fits:
    usually two renders per long row instead of a dozen for a binary search.
    """
    fields = ("original_text", "rewritten_text")
    lengths = [len(tokenizer(row[c], add_special_tokens=False)["input_ids"]) for c in fields]
    limit = max(lengths)
    while limit > 0 and sum(max(0, n - limit) for n in lengths) < over:
        limit -= max(1, (over - sum(max(0, n - limit) for n in lengths)) // 2)
    limit = max(limit, 0)
    while True:
        prompt, target = encode(limit)
        excess = len(prompt) + len(target) - max_length
        if excess <= 0:
            return prompt
        if limit == 0:
            return None
        limit = max(0, min(limit - 1, limit - excess // 2))


def prompt_tokens(tokenizer: Any, template: Any) -> int:
    """Tokens of the template's prompt with both text fields empty: the least room any row's prompt takes."""
    return len(split_tokens(tokenizer, template.render_prompt(tokenizer, "", "", prime=""), "x")[0])


def check_fits(tokenizer: Any, template: Any, name: str, rows: list[dict[str, str]], max_length: int) -> None:
    """ConfigError when `max_length` fits no row even with its texts cut to nothing: names the template's prompt
    length and a max_length that fits a typical row whole (the next power of two).

    Only the rows' own fields are tokenised (no chat rendering), so this is cheap enough to run on the host
    before a notebook starts."""
    shortest = min(rows, key=lambda r: len(tokenizer(r["rewrite_prompt"], add_special_tokens=False)["input_ids"]))
    if encode_row(tokenizer, template, dict(shortest, original_text="", rewritten_text=""), max_length) is not None:
        return
    prompt = prompt_tokens(tokenizer, template)
    sizes = sorted(sum(len(tokenizer(r[c], add_special_tokens=False)["input_ids"]) for c in COLUMNS) + 1
                   for r in rows)
    typical = prompt + sizes[len(sizes) // 2]
    suggest = 1 << (typical - 1).bit_length()
    raise ConfigError(f"[train] max_length {max_length} fits no row: the {name} template's prompt alone is "
                      f"{prompt} tokens", hint=f"use --max-length {suggest} or more: a typical row needs {typical}")


def encode_rows(tokenizer: Any, template: Any, rows: list[dict[str, str]], max_length: int,
                progress: bool = False, desc: str = "tokenise") -> Encoded:
    """Encode every row; rows whose answer cannot fit are dropped and counted."""
    from tqdm.auto import tqdm

    out = Encoded(examples=[])
    for row in tqdm(rows, desc=desc, disable=not progress, leave=False):
        ex = encode_row(tokenizer, template, row, max_length)
        if ex is None:
            out.dropped += 1
            continue
        out.truncated += int(ex.pop("truncated"))
        out.examples.append(ex)
    return out


def encode_splits(cfg: Any, base: Path, template: Any, train_rows: list[dict], val_rows: list[dict],
                  progress: bool) -> tuple[Any, list[dict], list[dict], dict[str, int]]:
    """The base model's tokenizer and both splits tokenised with completion-only labels; ConfigError when no
    training row's answer fits `max_length`. Returns (tokenizer, train examples, val examples, row counts)."""
    from transformers import AutoTokenizer, set_seed

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
    counts = {"train": len(train_enc.examples), "val": len(val_enc.examples),
              "dropped": train_enc.dropped + val_enc.dropped, "truncated": train_enc.truncated + val_enc.truncated}
    return tokenizer, train_enc.examples, val_enc.examples, counts
