"""Re-scoring candidate prompts with the rewriter: which candidate best explains the observed rewrite?

For a row (original, rewritten) and candidate prompts c_1..c_k, each candidate is scored by the rewriter's
log-likelihood of the observed rewritten text given the rewriter's own prompt built from c_j and the original
(teacher forcing: one forward pass per (row, candidate), no generation). The rewritten tokens are the same
for every candidate of a row, so summed log-probabilities compare directly. Sequences of many rows and
candidates share one batch (sorted by length, right padding); the chat head every sequence starts with is run
once and its key/value cache reused; only the positions that predict rewritten tokens go through the LM head.

`method="embed"` is the slower alternative, offered for comparison: the rewriter rewrites the
original with each candidate (greedy generation) and the candidate whose rewrite embeds closest to the
observed rewrite wins.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.errors import InputError
from kit.llm import prefix_cache
from kit.packs.prompt_recovery.rewriter import render_rewriter_prompt

if TYPE_CHECKING:
    from kit.kernel.guard import SubmissionWriter, TimeGuard
    from kit.packs.prompt_recovery.templates import Template

log = logging.getLogger(__name__)
METHODS = ("loglik", "embed")
MIN_SHARED_TOKENS = 8  # a shorter common head is not worth a separate forward pass
HEAD_ROWS = 512  # hidden states sent through the LM head at a time: bounds the (rows x vocab) logits tensor


class Rescorer:
    """The rewriter model (causal LM + tokenizer) used to rank candidate prompts for observed rewrites."""

    def __init__(self, model: Any, tokenizer: Any, *, max_field_tokens: int | None = 512,
                 batch_size: int = 8) -> None:
        self.model, self.tokenizer = model.eval(), tokenizer
        self.max_field_tokens = max_field_tokens
        self.batch_size = batch_size
        self.forward_passes = 0  # batched forward passes run (all calls together)
        self.sequences = 0  # (row, candidate) sequences scored
        self.shared_tokens_reused = 0  # head tokens served from the shared cache instead of recomputed
        self._head: tuple[tuple[int, ...], Any] | None = None

    @classmethod
    def load(cls, model_path: str | os.PathLike, *, device: str | None = None, dtype: str = "auto",
             load_in_4bit: bool = False, **kwargs: Any) -> Rescorer:
        """Load the rewriter from a model folder (the embedded instruct model locally, a Kaggle Model there), the
        way the generation Engine loads a model (device, precision, optional 4-bit, one-line load errors)."""
        from kit.llm.engine import Engine

        engine = Engine(Path(model_path), device=device, dtype=dtype, load_in_4bit=load_in_4bit, prefix_cache=False)
        return cls(engine.model, engine.tokenizer, **kwargs)

    # ------------------------------------------------------------------ encoding
    def encode(self, candidate: str, original: str, rewritten: str) -> tuple[list[int], list[int]]:
        """(prompt ids, rewritten ids): the rewriter's chat text for (candidate, original), and the observed
        rewrite as the rewriter's answer, each tokenised as generation saw them (the answer after the header)."""
        from kit.packs.prompt_recovery.templates import truncate_tokens

        tok = self.tokenizer
        if self.max_field_tokens:
            original = truncate_tokens(tok, original, self.max_field_tokens)
            rewritten = truncate_tokens(tok, rewritten, self.max_field_tokens)
        prompt = tok(render_rewriter_prompt(tok, candidate, original), add_special_tokens=False)["input_ids"]
        target = tok(rewritten, add_special_tokens=False)["input_ids"] or [tok.eos_token_id]
        return prompt, target

    # ------------------------------------------------------------------ scoring
    def loglik(self, pairs: Sequence[tuple[str, str, str]]) -> list[float]:
        """Summed log-probability of each rewritten text given (candidate, original): one per
        (candidate, original, rewritten) triple, in input order."""
        import torch

        encoded = [self.encode(*p) for p in pairs]
        if not encoded:
            return []
        head = self._shared_head([p for p, _ in encoded])
        order = sorted(range(len(encoded)), key=lambda i: -sum(map(len, encoded[i])))
        out = [0.0] * len(encoded)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                for i, value in zip(idx, self._batch([encoded[i] for i in idx], head), strict=True):
                    out[i] = value
        self.sequences += len(encoded)
        return out

    def _shared_head(self, prompts: list[list[int]]) -> tuple[tuple[int, ...], Any] | None:
        """(ids, batch-1 cache) of the chat head all prompts share, kept across calls; None when short."""
        if self._head is not None and all(prefix_cache.starts_with(p, self._head[0]) for p in prompts):
            return self._head
        length = min(prefix_cache.common_prefix_length(prompts), min(len(p) for p in prompts) - 1)
        if length < MIN_SHARED_TOKENS or len(prompts) < 2:
            return None
        ids = tuple(prompts[0][:length])
        try:
            self._head = (ids, prefix_cache.build(self.model, ids))
        except Exception as exc:  # an old transformers without the cache API: the plain path still works
            log.warning("rewriter head cache unavailable (%s); scoring without it", exc)
            return None
        return self._head

    def _batch(self, seqs: list[tuple[list[int], list[int]]], head: tuple[tuple[int, ...], Any] | None) -> list[float]:
        import torch

        shared = len(head[0]) if head else 0
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        tails = [(p + t)[shared:] for p, t in seqs]
        width = max(map(len, tails))
        device = self.model.device
        ids = torch.tensor([x + [pad] * (width - len(x)) for x in tails], device=device)
        mask = torch.tensor([[1] * (shared + len(x)) + [0] * (width - len(x)) for x in tails], device=device)
        extra: dict[str, Any] = {}
        if head:
            extra[prefix_cache.cache_kwarg(self.model)] = prefix_cache.expanded_cache(head[1], len(seqs))
            self.shared_tokens_reused += shared * len(seqs)
        decoder = getattr(self.model, self.model.base_model_prefix)
        hidden = decoder(input_ids=ids, attention_mask=mask, use_cache=bool(head), **extra).last_hidden_state
        self.forward_passes += 1
        # the hidden state at position j predicts token j+1: gather the positions before each rewritten token
        rows, cols, targets = [], [], []
        for r, (p, t) in enumerate(seqs):
            first = len(p) - shared - 1  # position (in the tail) that predicts the first rewritten token
            rows += [r] * len(t)
            cols += range(first, first + len(t))
            targets += t
        states = hidden[torch.tensor(rows, device=device), torch.tensor(cols, device=device)]
        logprobs = self._token_logprobs(states, torch.tensor(targets, device=device))
        sums, pos = [], 0
        for _, t in seqs:
            sums.append(float(logprobs[pos:pos + len(t)].sum()))
            pos += len(t)
        return sums

    def _token_logprobs(self, states: Any, targets: Any) -> Any:
        """log p(target | state) through the LM head, HEAD_ROWS states at a time (float32 softmax)."""
        import torch

        head = self.model.get_output_embeddings()
        cap = getattr(self.model.config, "final_logit_softcapping", None)  # Gemma 2 style models
        parts = []
        for s in range(0, len(states), HEAD_ROWS):
            logits = head(states[s:s + HEAD_ROWS]).float()
            if cap:
                logits = torch.tanh(logits / cap) * cap
            parts.append(torch.log_softmax(logits, dim=-1).gather(1, targets[s:s + HEAD_ROWS, None])[:, 0])
        return torch.cat(parts)

    def rank(self, rows: Sequence[dict[str, str]], candidates: Sequence[Sequence[str]],
             method: str = "loglik", embedder: Any = None, max_new_tokens: int = 64) -> list[list[tuple[str, float]]]:
        """For each row, its distinct candidates with their scores, best first (stable for ties)."""
        if method not in METHODS:
            raise InputError(f"unknown re-scoring method '{method}'", hint=f"use one of {', '.join(METHODS)}")
        unique = [list(dict.fromkeys(c for c in cands if c and c.strip())) for cands in candidates]
        pairs = [(c, row["original_text"], row["rewritten_text"]) for row, cands in zip(rows, unique, strict=True)
                 for c in cands]
        scores = self.loglik(pairs) if method == "loglik" else self.embed_similarity(pairs, embedder, max_new_tokens)
        ranked, pos = [], 0
        for cands in unique:
            own = list(zip(cands, scores[pos:pos + len(cands)], strict=True))
            pos += len(cands)
            ranked.append(sorted(own, key=lambda cs: -cs[1]))
        return ranked

    # ------------------------------------------------------------------ the slower variant
    def embed_similarity(self, pairs: Sequence[tuple[str, str, str]], embedder: Any,
                         max_new_tokens: int = 64) -> list[float]:
        """Cosine between the embedding of the rewriter's own rewrite of the original with each candidate
        (greedy generation) and the embedding of the observed rewrite."""
        if embedder is None:
            raise InputError("re-scoring method 'embed' needs an embedder")
        from kit.llm.engine import Engine

        engine = Engine.from_loaded(self.model, self.tokenizer)
        prompts = [render_rewriter_prompt(self.tokenizer, c, o) for c, o, _ in pairs]
        made = engine.generate(prompts, max_new_tokens=max_new_tokens, batch_size=self.batch_size)
        vecs = embedder.encode(made + [r for _, _, r in pairs])
        n = len(pairs)
        return [float(v) for v in (vecs[:n] * vecs[n:]).sum(axis=1)]


def rescore_phase(rows: Sequence[dict[str, str]], candidates: list[list[str | None]], template: Template,
                  rescorer: Rescorer, *, guard: TimeGuard, writer: SubmissionWriter | None = None,
                  mean_prompt: str | None = None, chunk_rows: int = 4, method: str = "loglik",
                  embedder: Any = None) -> list[list[str | None]]:
    """Re-rank each row's candidates, breadth-first in chunks under `guard` (its own phase); returns the
    candidate lists, ranked (and cut to `template.rescore_keep`) where reached. What is ranked is the row's pool
    (kit.packs.prompt_recovery.candidates): its generated candidates, deduplicated, plus the mean prompt when the
    template asks for it. A row the phase does not reach keeps its unranked candidates, so its submitted string
    stays the one the generation phase wrote."""
    from kit.packs.prompt_recovery.candidates import candidate_pool
    from kit.packs.prompt_recovery.templates import DEFAULT_MEAN_PROMPT

    extra = [mean_prompt or DEFAULT_MEAN_PROMPT] if template.mean_candidate else []
    pools = [candidate_pool(c, extra) for c in candidates]
    ranked: list[list[str | None]] = [list(c) for c in candidates]
    todo = [i for i, c in enumerate(pools) if len(c) > 1]  # one candidate: nothing to rank
    phase = guard.phase("rescore")
    started = time.time()
    for _, idx in phase.schedule(1, todo, chunk_rows):
        order = rescorer.rank([rows[i] for i in idx], [pools[i] for i in idx], method, embedder)
        for i, best_first in zip(idx, order, strict=True):
            ranked[i] = [c for c, _ in best_first][: template.rescore_keep or None]
        if writer is not None:
            writer.update({rows[i]["id"]: template.assemble(ranked[i], rows[i]["original_text"],
                                                            rows[i]["rewritten_text"], mean_prompt=mean_prompt)
                           for i in idx})
    log.info("re-scored %d of %d rows in %.1fs", phase.done_per_pass[0] if phase.done_per_pass else 0, len(todo),
             time.time() - started)
    return ranked
