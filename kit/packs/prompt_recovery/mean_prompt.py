"""Mean-prompt optimizer: one string that scores high against every plausible rewrite prompt at once.

The competition metric is the sharpened cosine similarity (cos**3) between sentence embeddings, so a single
"mean prompt" can score well against all prompts: top solutions carried one as a fallback and appended it
to model predictions. This module searches for that string with a seeded beam search over word-level edits
(insert, delete, substitute) drawn from a candidate vocabulary, scoring each candidate exactly against the
target prompt embeddings. Embedding candidates is the whole cost, so candidates are embedded in batches,
never twice (a score cache), and the target embeddings are computed once.

The search speaks to the embedder through one small interface, `EmbedFn`: a callable that maps a list of
texts to an array of L2-normalised rows. `kit.packs.prompt_recovery.metric.Embedder.encode` is one; tests use their own.
Reading the prompts and building the vocabulary live in kit/packs/prompt_recovery/mean_prompt_inputs.py.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kit.errors import ConfigError, InputError
from kit.packs.prompt_recovery.mean_prompt_inputs import (
    auto_vocab,
    read_prompts,
    read_vocab,
    split_prompts,
    tokenizer_tokens,
)
from kit.packs.prompt_recovery.templates import DEFAULT_MEAN_PROMPT

EmbedFn = Callable[[list[str]], np.ndarray]

__all__ = ["REFERENCE_PROMPT", "EmbedFn", "Report", "Result", "compare", "optimize", "score_strings",
           "search_mean_prompt", "sharpened_scores"]

# The hand-written mean prompt that scored about 0.63 on the public leaderboard (seifachour12), which is also
# the templates' default mean prompt.
REFERENCE_PROMPT = DEFAULT_MEAN_PROMPT


# ---------------------------------------------------------------------------- scoring


def sharpened_scores(candidates: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Mean over targets of max(cos, 0)**3 for each candidate row (rows of both L2-normalised)."""
    sims = np.clip(candidates @ targets.T, 0.0, None)
    return (sims**3).mean(axis=1)


def score_strings(texts: Sequence[str], targets: np.ndarray, embed_fn: EmbedFn) -> list[float]:
    """Exact mean sharpened cosine of each text against the target embedding matrix."""
    if not texts:
        return []
    return [float(s) for s in sharpened_scores(_embed(embed_fn, list(texts)), targets)]


def _embed(embed_fn: EmbedFn, texts: list[str]) -> np.ndarray:
    out = np.asarray(embed_fn(texts), dtype=np.float32)
    if out.ndim != 2 or out.shape[0] != len(texts):
        raise InputError(f"embedder returned shape {out.shape} for {len(texts)} texts")
    return out


# ---------------------------------------------------------------------------- search


@dataclass
class Result:
    """What `optimize` found. `path_scores[i]` is the best train score after step i (step 0: the start)."""

    text: str
    score: float
    path_scores: list[float]
    steps: int
    seconds: float
    evaluations: int
    stopped: str  # "budget", "max_steps" or "converged"
    path_texts: list[str] = field(default_factory=list)


class _Search:
    """Seeded beam search over word edits; every scored string is cached, so nothing is embedded twice.

    Proposals are guided by a linear guess: a mean-pooling embedder's vector for a string with a word added
    (or removed) is close to the normalised sum of the string's vector, weighted by its length, and the word's
    own vector. The guess only ranks proposals; every candidate is then scored exactly.
    """

    def __init__(self, targets: np.ndarray, embed_fn: EmbedFn, vocab: list[str], *, max_tokens: int, beam: int,
                 candidates: int, batch_size: int, seed: int, deadline: float) -> None:
        self.targets, self.embed_fn, self.vocab = targets, embed_fn, vocab
        self.max_tokens, self.beam, self.candidates, self.batch_size = max_tokens, beam, candidates, batch_size
        self.rng = random.Random(seed)
        self.deadline = deadline
        self.cache: dict[str, float] = {}
        self.vecs: dict[str, np.ndarray] = {}
        self.batch_seconds = 0.0  # slowest batch so far: the margin kept before the deadline
        self.out_of_time = False
        self.weights = [1.0] * len(vocab)
        self.primed: list[str] = []
        self.word_mat = np.zeros((0, targets.shape[1]), dtype=np.float32)
        self.next_word = 0  # vocabulary words before this one have been offered to `prime`

    def score(self, texts: Iterable[str]) -> None:
        """Score the unseen `texts` in batches, stopping (out_of_time) when the next batch would overrun."""
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        for i in range(0, len(todo), self.batch_size):
            if time.monotonic() + self.batch_seconds > self.deadline:
                self.out_of_time = True
                return
            chunk = todo[i: i + self.batch_size]
            start = time.monotonic()
            vecs = _embed(self.embed_fn, chunk)
            for text, vec, value in zip(chunk, vecs, sharpened_scores(vecs, self.targets), strict=True):
                self.cache[text], self.vecs[text] = float(value), vec
            self.batch_seconds = max(self.batch_seconds, time.monotonic() - start)

    def rank(self, texts: Iterable[str]) -> list[str]:
        """Scored texts, best first; ties broken by the text itself so the order is deterministic."""
        known = [t for t in dict.fromkeys(texts) if t in self.cache]
        return sorted(known, key=lambda t: (-self.cache[t], t))

    def prime(self, count: int, extra: Sequence[str] = ()) -> None:
        """Embed the next `count` vocabulary words on their own (vocabulary order: prompt words first), and
        the `extra` words (those of the initial string, for the guess of their deletion).

        Gives the proposal prior (rank weights by single-word score) and the word vectors for the linear
        guess; words not embedded yet keep the lowest weight. Counts per step, not time shares, keep the
        proposals independent of the machine's speed.
        """
        if count <= 0 or self.next_word >= len(self.vocab):
            return
        self.score([*extra, *self.vocab[self.next_word: self.next_word + count]])
        self.next_word += count
        self.primed = [w for w in self.vocab if w in self.vecs]
        if self.primed:
            self.word_mat = np.stack([self.vecs[w] for w in self.primed])
        floor = min((self.cache[w] for w in self.primed), default=0.0)
        order = sorted(range(len(self.vocab)), key=lambda i: (-self.cache.get(self.vocab[i], floor), i))
        for rank, i in enumerate(order):
            self.weights[i] = 1.0 / (10.0 + rank)

    def _guess(self, base: np.ndarray, weight: float, deltas: np.ndarray) -> np.ndarray:
        """Guessed scores of strings whose summed vector is `weight * base + delta`, one per delta row."""
        mixed = weight * base[None, :] + deltas
        mixed /= np.maximum(np.linalg.norm(mixed, axis=1, keepdims=True), 1e-9)
        return sharpened_scores(mixed, self.targets)

    def neighbours(self, text: str, quota: int) -> list[str]:
        """Up to `quota` new edits of `text`: many seeded proposals, the best by the linear guess kept,
        plus a quarter drawn at random from the rest so the guess cannot shut parts of the space out."""
        words, base = text.split(), self.vecs[text]
        good: list[str] = []
        if self.primed:  # the words whose addition the guess likes best
            guess = self._guess(base, len(words), self.word_mat)
            good = [self.primed[i] for i in np.argsort(-guess, kind="stable")[: max(2 * quota, 8)]]
        proposals: dict[str, np.ndarray] = {}
        for _ in range(6 * quota):
            edited, delta = self._edit(words, good)
            edit = " ".join(edited)
            if edit and edit not in self.cache:
                proposals.setdefault(edit, delta)
        if len(proposals) <= quota:
            return list(proposals)
        texts = list(proposals)
        order = np.argsort(-self._guess(base, len(words), np.stack(list(proposals.values()))), kind="stable")
        explore = quota // 4
        chosen = [texts[i] for i in order[: quota - explore]]
        return chosen + self.rng.sample([texts[i] for i in order[quota - explore:]], explore)

    def _vec(self, word: str) -> np.ndarray:
        vec = self.vecs.get(word)
        return vec if vec is not None else np.zeros(self.targets.shape[1], dtype=np.float32)

    def _edit(self, words: list[str], good: list[str]) -> tuple[list[str], np.ndarray]:
        """One seeded edit and its guessed change of the summed vector (added word minus removed word)."""
        roll = self.rng.random()
        if len(words) > 1 and roll < 0.15:
            p = self.rng.randrange(len(words))
            return words[:p] + words[p + 1:], -self._vec(words[p])
        if good and self.rng.random() < 0.75:
            word = self.rng.choice(good)
        else:
            word = self.rng.choices(self.vocab, weights=self.weights)[0]
        if len(words) < self.max_tokens and (not words or roll < 0.65):
            p = self.rng.randint(0, len(words))
            return [*words[:p], word, *words[p:]], self._vec(word)
        p = self.rng.randrange(len(words))
        return [*words[:p], word, *words[p + 1:]], self._vec(word) - self._vec(words[p])


def optimize(targets: np.ndarray | Sequence[str], embed_fn: EmbedFn, vocab: Sequence[str], *, init: str = "",
             max_tokens: int = 32, beam: int = 2, budget_s: float = 60.0, seed: int = 0,
             max_steps: int | None = None, candidates: int = 32, batch_size: int = 64, patience: int = 50,
             prime_words: int = 256, prime_step: int = 8, progress: bool = False) -> Result:
    """Search for the string maximising the mean sharpened cosine against `targets`.

    targets: the target prompts, or their L2-normalised embedding matrix (computed once by the caller).
    vocab: candidate words for insertions and substitutions, most useful first (the first `prime_words`, then
    `prime_step` more per step, are embedded alone to guide the proposals). init: the starting string ('' starts
    from the best single word).
    Each step proposes many seeded edits of every beam state (insert, substitute, delete one word), embeds
    the `candidates` that a linear guess ranks best (plus a random quarter), and keeps the `beam` best of old
    and new states, so the best score never decreases. The proposals depend only on `seed`: the budget only
    decides where the trajectory is cut, so `max_steps` gives the same string on any machine. Stops at
    `budget_s` (covering the whole call), at `max_steps`, or after `patience` steps without improvement.
    """
    start = time.monotonic()
    if max_tokens < 1 or beam < 1 or candidates < 1 or batch_size < 1:
        raise ConfigError("max_tokens, beam, candidates and batch_size must all be at least 1")
    vocab = list(dict.fromkeys(w.strip() for w in vocab if w.strip()))
    if not vocab:
        raise InputError("the candidate vocabulary is empty")
    if not isinstance(targets, np.ndarray):
        targets = _embed(embed_fn, list(targets))
    search = _Search(targets, embed_fn, vocab, max_tokens=max_tokens, beam=beam, candidates=candidates,
                     batch_size=batch_size, seed=seed, deadline=start + budget_s)
    base = init.split()[:max_tokens]
    bar = _progress_bar(progress, budget_s)
    if bar is not None:
        bar.set_postfix_str("embedding the vocabulary words", refresh=True)
    search.prime(prime_words, extra=base)
    search.batch_seconds = 0.0  # single-word batches say little about full-candidate batch times
    singles = search.rank(search.cache)
    first = " ".join(base) if base else (singles[0] if singles else vocab[0])
    if first not in search.cache:  # always scored, even past the budget: the result never loses to init
        search.deadline, deadline = math.inf, search.deadline
        search.score([first])
        search.deadline = deadline
    states = search.rank([first, *singles[: beam - 1]] if not base else [first])
    path_scores, path_texts = [search.cache[first]], [first]
    steps, stale, stopped = 0, 0, "budget"
    while not search.out_of_time:
        if max_steps is not None and steps >= max_steps:
            stopped = "max_steps"
            break
        search.prime(prime_step)
        quota = max(1, math.ceil(candidates / len(states)))
        pool = [t for s in states for t in search.neighbours(s, quota)]
        search.score(pool)
        states = search.rank([*states, *pool])[:beam]
        steps += 1
        best = states[0]
        improved = search.cache[best] > path_scores[-1]
        stale = 0 if improved else stale + 1
        path_scores.append(search.cache[best])
        path_texts.append(best)
        if bar is not None:
            bar.n = min(round(time.monotonic() - start, 1), budget_s)
            bar.set_postfix_str(f"best={search.cache[best]:.4f} {best[:60]!r}", refresh=True)
        if stale >= patience:
            stopped = "converged"
            break
    if bar is not None:
        bar.close()
    best = path_texts[-1]
    return Result(text=best, score=path_scores[-1], path_scores=path_scores, steps=steps,
                  seconds=time.monotonic() - start, evaluations=len(search.cache), stopped=stopped,
                  path_texts=path_texts)


def _progress_bar(enabled: bool, budget_s: float) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=budget_s, unit="s", desc="mean prompt", bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f}s {postfix}")


# ---------------------------------------------------------------------------- the whole run


@dataclass
class Report:
    """A search with its held-out check: `rows` hold train and held-out scores of each compared string."""

    result: Result
    rows: list[dict[str, Any]]
    train_size: int
    holdout_size: int
    vocab_size: int
    embedder: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (the path texts are left out: they can be long)."""
        res = {k: v for k, v in self.result.__dict__.items() if k != "path_texts"}
        return {"text": self.result.text, "result": res, "rows": self.rows, "train_size": self.train_size,
                "holdout_size": self.holdout_size, "vocab_size": self.vocab_size, "embedder": self.embedder}


def compare(texts: dict[str, str], train: np.ndarray, held: np.ndarray, embed_fn: EmbedFn) -> list[dict[str, Any]]:
    """Train and held-out mean sharpened cosine of each named string (one embedding call for all)."""
    names = list(texts)
    vecs = _embed(embed_fn, [texts[n] for n in names])
    tr, ho = sharpened_scores(vecs, train), sharpened_scores(vecs, held)
    return [{"name": n, "text": texts[n], "train": float(tr[i]), "holdout": float(ho[i])} for i, n in enumerate(names)]


def search_mean_prompt(prompts_path: Path | str, *, embedder: Any = None, embedder_path: str | None = None,
                       host_tokenizer: bool = False, precision: str = "auto",
                       vocab: str = "auto", vocab_limit: int = 2000, holdout_path: Path | str | None = None,
                       holdout_fraction: float = 0.2, init: str = REFERENCE_PROMPT, max_tokens: int = 32,
                       beam: int = 2, candidates: int = 32, budget_s: float = 120.0, seed: int = 0,
                       max_steps: int | None = None, progress: bool = False) -> Report:
    """Read prompts, split (or read the held-out file), build the vocabulary, optimize, and compare.

    `embedder` is anything with `encode(texts) -> unit rows` (and optionally `.tokenizer`, `.label`);
    None loads `embedder_path` (None: the bundled MiniLM proxy) with `host_tokenizer` and `precision`.
    `vocab` is 'auto' or a word-list file.
    The rows compare the result, the initial string and the 0.63 reference sentence.
    """
    prompts = read_prompts(prompts_path)
    if holdout_path:
        train, held = sorted(set(prompts)), sorted(set(read_prompts(holdout_path)))
    else:
        train, held = split_prompts(prompts, holdout_fraction, seed)
    if embedder is None:
        from kit.packs.prompt_recovery.metric import load_embedder

        embedder = load_embedder(embedder_path, host_tokenizer=host_tokenizer, precision=precision)
    embed_fn: EmbedFn = embedder.encode
    if vocab == "auto":
        words = auto_vocab(train, tokenizer_tokens(getattr(embedder, "tokenizer", None)), vocab_limit)
    else:
        words = read_vocab(vocab)
    train_vecs, held_vecs = _embed(embed_fn, train), _embed(embed_fn, held)
    result = optimize(train_vecs, embed_fn, words, init=init, max_tokens=max_tokens, beam=beam, budget_s=budget_s,
                      seed=seed, max_steps=max_steps, candidates=candidates, progress=progress)
    named = {"result": result.text, "init": result.path_texts[0], "reference (0.63 LB)": REFERENCE_PROMPT}
    if named["init"] == REFERENCE_PROMPT:
        del named["init"]
    return Report(result=result, rows=compare(named, train_vecs, held_vecs, embed_fn), train_size=len(train),
                  holdout_size=len(held), vocab_size=len(words), embedder=str(getattr(embedder, "label", "")))
