"""Inputs of the mean-prompt search: the target prompts, their held-out split and the candidate vocabulary.

Split from kit/packs/prompt_recovery/mean_prompt.py (which keeps the scoring, the beam search and the whole run); these
helpers read files and build word lists, and know nothing of embeddings.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from kit.errors import ConfigError, InputError

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")


# ---------------------------------------------------------------------------- prompts


def read_prompts(path: Path | str, column: str = "rewrite_prompt") -> list[str]:
    """Prompts from a CSV (its `column`) or a text file (one prompt per non-empty line)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        from kit.tables import read_rows

        prompts = [r[column].strip() for r in read_rows(path, required=[column])]
    else:
        if not path.is_file():
            raise InputError(f"{path}: file not found")
        prompts = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    prompts = [p for p in prompts if p]
    if not prompts:
        raise InputError(f"{path}: no prompts found")
    return prompts


def split_prompts(prompts: Sequence[str], holdout: float = 0.2, seed: int = 0) -> tuple[list[str], list[str]]:
    """Seeded split of the UNIQUE prompts into (train, held-out), so no held-out string is seen in training."""
    if not 0.0 < holdout < 1.0:
        raise ConfigError(f"holdout fraction must be between 0 and 1, got {holdout}")
    unique = sorted(set(prompts))
    if len(unique) < 2:
        raise InputError(f"need at least 2 distinct prompts to hold some out, got {len(unique)}")
    random.Random(seed).shuffle(unique)
    n_held = min(len(unique) - 1, max(1, round(len(unique) * holdout)))
    return unique[n_held:], unique[:n_held]


def words_of(texts: Iterable[str], min_count: int = 1) -> list[str]:
    """Distinct alphabetic words of `texts` found in at least `min_count` of them, in first-seen order (case
    kept: cased embedders care)."""
    counts: dict[str, int] = {}
    for text in texts:
        for word in dict.fromkeys(_WORD.findall(text)):
            counts[word] = counts.get(word, 0) + 1
    return [w for w, n in counts.items() if n >= min_count]


def tokenizer_words(tokens: Iterable[str], min_len: int = 3, max_len: int = 12, limit: int = 3000) -> list[str]:
    """Whole-word pieces of a tokenizer vocabulary (in id order), alphabetic and of reasonable length.

    SentencePiece vocabularies (T5) mark word starts with '▁' and only those pieces are kept; WordPiece
    vocabularies (BERT, MiniLM) mark continuations with '##', which are dropped. Both are roughly sorted by
    frequency, so the first `limit` survivors are the common words.
    """
    tokens = list(tokens)
    sentencepiece = any(t.startswith("\u2581") for t in tokens[:2000])
    out: dict[str, None] = {}
    for tok in tokens:
        if sentencepiece:
            if not tok.startswith("\u2581"):
                continue
            tok = tok[1:]
        elif tok.startswith("##"):
            continue
        if min_len <= len(tok) <= max_len and tok.isascii() and tok.isalpha():
            out.setdefault(tok, None)
            if len(out) >= limit:
                break
    return list(out)


def read_vocab(path: Path | str) -> list[str]:
    """A vocabulary file: one word (or short phrase) per non-empty line, '#' comments ignored."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: vocabulary file not found")
    words = [w.strip() for w in path.read_text(encoding="utf-8").splitlines()]
    words = list(dict.fromkeys(w for w in words if w and not w.startswith("#")))
    if not words:
        raise InputError(f"{path}: vocabulary file is empty")
    return words


# ---------------------------------------------------------------------------- vocabulary


def tokenizer_tokens(tokenizer: Any) -> list[str]:
    """A tokenizer's vocabulary in id order ([] when it has none)."""
    get_vocab = getattr(tokenizer, "get_vocab", None)
    if get_vocab is None:
        return []
    vocab = get_vocab()
    return sorted(vocab, key=vocab.get)


def auto_vocab(prompts: Sequence[str], tokens: Sequence[str] = (), limit: int = 2000, min_count: int = 2) -> list[str]:
    """The default vocabulary: words shared by `min_count`+ training prompts (a word from a single prompt
    mostly overfits it), then common whole words of the tokenizer."""
    return list(dict.fromkeys([*words_of(prompts, min_count), *tokenizer_words(tokens, limit=limit)]))
