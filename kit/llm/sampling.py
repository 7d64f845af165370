"""Sampled decoding: several sampled continuations per prompt from one prefill, reproducible for a fixed seed.

A pack that votes over attempts, or makes varied training data, asks for `n` sampled sequences per prompt. The
prompt is prefilled once; its key/value cache is then repeated to `n` rows, and the rows decode together, one
token per step. Each row draws from its own random generator, seeded from (seed, prompt text, row number), so a
sequence depends only on its prompt, the config and the model: not on the batch it landed in, the order of the
prompts, an out-of-memory retry at a smaller batch or the worker that ran it. (The same prompt twice in one call
gets the same sequences: ask for a larger `n` instead.) Temperature 0 picks the most likely token (greedy).
A sequence ends at the end-of-sequence token or at the first stop string, which is cut off with what follows.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kit.errors import InputError

NUCLEUS_CANDIDATES = 256  # tokens looked at first for the top-p nucleus (the whole vocabulary when they fall short)


@dataclass(frozen=True)
class SamplingConfig:
    """How to sample: temperature, nucleus (top-p), seed, sequences per prompt, length and stop strings."""

    temperature: float = 0.7  # 0: always the most likely token (greedy)
    top_p: float = 0.95  # sample from the smallest set of tokens whose probabilities reach top_p (1: all)
    seed: int = 0
    n: int = 1  # sampled sequences per prompt, sharing one prefill of the prompt
    max_new_tokens: int = 128
    stop: tuple[str, ...] = field(default_factory=tuple)  # a sequence ends at the first of these (trimmed)

    def __post_init__(self) -> None:
        """Refuse values that cannot sample, in one line naming the field."""
        object.__setattr__(self, "stop", tuple(self.stop))  # a list from JSON or a caller reads as the tuple
        checks = {"temperature": self.temperature >= 0, "top_p": 0 < self.top_p <= 1, "n": self.n >= 1,
                  "max_new_tokens": self.max_new_tokens >= 1, "stop": all(isinstance(s, str) and s for s in self.stop)}
        wants = {"temperature": ">= 0", "top_p": "in (0, 1]", "n": ">= 1", "max_new_tokens": ">= 1",
                 "stop": "non-empty strings"}
        for name, ok in checks.items():
            if not ok:
                raise InputError(f"sampling {name} must be {wants[name]} (got {getattr(self, name)!r})")


def row_seed(seed: int, prompt: str, row: int) -> int:
    """The random seed of sequence `row` of `prompt`: a hash, so it does not depend on where the prompt is."""
    digest = hashlib.sha256(f"{seed}\0{row}\0{prompt}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1  # torch seeds are non-negative 64-bit


def generators(seeds: Sequence[int], device: Any) -> list[Any]:
    """One torch random generator per row, on the device the logits live on."""
    import torch

    return [torch.Generator(device=device).manual_seed(s) for s in seeds]


def choose_tokens(logits: Any, config: SamplingConfig, gens: Sequence[Any]) -> Any:
    """The next token of each row (a long tensor of shape rows) from its last-position `logits` (rows x vocab)."""
    import torch

    if config.temperature == 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits.float() / config.temperature, dim=-1)  # float32: fp16 softmax loses the tail
    weights, ids = nucleus(probs, config.top_p)
    picks = [torch.multinomial(weights[r], 1, generator=gen) for r, gen in enumerate(gens)]
    return ids.gather(1, torch.stack(picks)).squeeze(1)


def nucleus(probs: Any, top_p: float) -> tuple[Any, Any]:
    """Each row's top-p nucleus as (weights, token ids), most likely first: the smallest run of most likely tokens
    whose probabilities reach top_p keeps its weights, the rest get 0 (the most likely token always stays).

    Only the NUCLEUS_CANDIDATES most likely tokens are ranked when they already hold top_p of every row's mass
    (the usual case: sorting a whole vocabulary costs as much as a small model's step), else the whole vocabulary.
    """
    ranked = None
    if top_p < 1 and probs.shape[-1] > NUCLEUS_CANDIDATES:
        ranked, ids = probs.topk(NUCLEUS_CANDIDATES, dim=-1)
        if not bool((ranked.sum(dim=-1) >= top_p).all()):
            ranked = None
    if ranked is None:
        ranked, ids = probs.sort(dim=-1, descending=True)
    if top_p < 1:  # keep a token while the mass before it is still short of top_p
        ranked = ranked.masked_fill(ranked.cumsum(dim=-1) - ranked >= top_p, 0.0)
    return ranked, ids


def stop_at(text: str, stop: Sequence[str]) -> int | None:
    """Where the earliest stop string starts in `text`, or None when none occurs."""
    found = [i for i in (text.find(s) for s in stop) if i >= 0]
    return min(found) if found else None


def trim(text: str, stop: Sequence[str]) -> str:
    """`text` up to its earliest stop string (the stop string and all after it removed)."""
    cut = stop_at(text, stop)
    return text if cut is None else text[:cut]


def decode(model: Any, tokenizer: Any, step: DecodeStep, config: SamplingConfig, seeds: Sequence[int]) -> list[str]:
    """Sample up to `config.max_new_tokens` tokens for every row of a prefilled batch; the decoded texts.

    `step` holds the last-position logits, cache, attention mask and positions of the prefill, one row per
    sequence, `seeds` one seed per row. The rows advance together; a row that ends (end-of-sequence token, a stop
    string) leaves the batch, so the others do not carry it.
    """
    eos = tokenizer.eos_token_id
    alive = list(range(len(seeds)))  # the row each row of the running batch is
    gens = generators(seeds, step.logits.device)
    tokens: list[list[int]] = [[] for _ in seeds]
    for made in range(1, config.max_new_tokens + 1):
        keep = []  # the rows of the running batch that go on
        for k, (row, token) in enumerate(zip(alive, choose_tokens(step.logits, config, gens).tolist(), strict=True)):
            if token == eos:
                continue  # ended; the end-of-sequence token is not part of the text
            tokens[row].append(token)
            if not _hit_stop(tokenizer, tokens[row], config.stop):
                keep.append(k)
        if made == config.max_new_tokens or not keep:
            break
        if len(keep) < len(alive):
            step, alive, gens = step.select(keep), [alive[k] for k in keep], [gens[k] for k in keep]
        step = step.advance(model, [tokens[row][-1] for row in alive])
    texts = tokenizer.batch_decode(tokens, skip_special_tokens=True)
    return [trim(t, config.stop) for t in texts]


def _hit_stop(tokenizer: Any, tokens: list[int], stop: Sequence[str]) -> bool:
    """True when the text of `tokens` holds a stop string (the whole text: a stop string may span tokens)."""
    return bool(stop) and stop_at(tokenizer.decode(tokens, skip_special_tokens=True), stop) is not None


@dataclass
class DecodeStep:
    """The state between two decoding steps: the last position's logits, the cache, mask and positions."""

    logits: Any  # rows x vocab
    cache: Any
    mask: Any  # rows x (cached + current) attention mask
    positions: Any  # rows: the position id of each row's last token

    def advance(self, model: Any, tokens: list[int]) -> DecodeStep:
        """Feed one token per row; the next step's state (the cache grows in place)."""
        import torch

        mask = torch.cat([self.mask, self.mask.new_ones(self.mask.shape[0], 1)], dim=1)
        positions = self.positions + 1
        ids = torch.tensor(tokens, device=self.mask.device)[:, None]
        logits = forward_last(model, ids, mask, positions[:, None], self.cache)
        return DecodeStep(logits=logits, cache=self.cache, mask=mask, positions=positions)

    def repeat(self, n: int) -> DecodeStep:
        """Each row repeated `n` times in place (rows r*n .. r*n+n-1 continue row r): n sequences, one prefill."""
        from kit.llm.prefix_cache import repeat_rows

        return DecodeStep(logits=self.logits.repeat_interleave(n, dim=0), cache=repeat_rows(self.cache, n),
                          mask=self.mask.repeat_interleave(n, dim=0),
                          positions=self.positions.repeat_interleave(n, dim=0))

    def select(self, keep: list[int]) -> DecodeStep:
        """Only the rows `keep` (in that order): the ended rows leave the batch and its cache."""
        import torch

        from kit.llm.prefix_cache import select_rows

        index = torch.tensor(keep, device=self.mask.device)
        return DecodeStep(logits=self.logits[index], cache=select_rows(self.cache, index), mask=self.mask[index],
                          positions=self.positions[index])


def prefill(model: Any, ids: Any, mask: Any, cache: Any) -> DecodeStep:
    """Run the uncached part of the prompts (`ids`, left-padded) after what `cache` holds; the first step's state.

    `mask` covers the cached positions and `ids`. Position ids count real tokens only (the mask's running sum), as
    transformers' own generate does, so a left-padded row and a shared cached prefix both continue correctly.
    """
    positions = (mask.long().cumsum(dim=-1) - 1).clamp(min=0)[:, -ids.shape[1]:]
    logits = forward_last(model, ids, mask, positions, cache)
    return DecodeStep(logits=logits, cache=cache, mask=mask, positions=positions[:, -1])


def forward_last(model: Any, ids: Any, mask: Any, positions: Any, cache: Any) -> Any:
    """One forward pass growing `cache`; the logits of each row's last position only (rows x vocab)."""
    from kit.llm.prefix_cache import cache_kwarg

    extra = {_last_logits_kwarg(model): 1} if _last_logits_kwarg(model) else {}
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True,
                **{cache_kwarg(model): cache}, **extra)
    return out.logits[:, -1, :]


def _last_logits_kwarg(model: Any) -> str | None:
    """The forward keyword that computes logits for the last position only (the prefill's logits for every
    position are rows x length x vocab): `logits_to_keep` today, `num_logits_to_keep` in 4.45-4.49, none before."""
    from kit.llm.prefix_cache import base_model

    params = inspect.signature(base_model(model).forward).parameters
    return next((k for k in ("logits_to_keep", "num_logits_to_keep") if k in params), None)
