"""Batched generation for many prompts at a time (`Engine`), over one loaded causal LM (+ optional LoRA adapter).

The engine generates for many prompts at a time: prompts sorted by length (longest first, so an out-of-memory
shows up on the first batch and time projections err on the safe side), left padding, halving the batch on CUDA
out-of-memory. `generate` decodes greedily (transformers' generate); `sample` draws n sequences per prompt from one
prefill of it (kit.llm.sampling). Both return only the decoded NEW tokens, in input order. When all prompts of a
call start with the same long run of tokens (a few-shot conversation), that shared prefix is run once at batch 1
and its key/value cache is copied into every batch (kit.llm.prefix_cache), so only each row's own tail is
prefilled. Loading (device, precision, 4-bit, adapters) is kit.llm.loading; with several GPUs,
kit.llm.workers.load_engine runs one engine per GPU in its own process behind the same interface.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kit.errors import InputError
from kit.llm import prefix_cache
from kit.llm.loading import load_model
from kit.llm.memory import free_memory, is_oom
from kit.llm.sampling import SamplingConfig, row_seed

log = logging.getLogger(__name__)
MIN_PREFIX_TOKENS = 32  # a shorter shared prefix is not worth a separate forward pass


class Engine:
    """A causal LM (+ optional LoRA adapter) that generates for batches of rendered prompts: greedily
    (`generate`) or several sampled sequences per prompt (`sample`)."""

    def __init__(
        self,
        model_path: str | os.PathLike,
        adapter_path: str | os.PathLike | None = None,
        *,
        device: str | None = None,
        dtype: str = "auto",
        load_in_4bit: bool = False,
        merge: bool = True,
        prefix_cache: bool = True,
    ) -> None:
        loaded = load_model(model_path, adapter_path, device=device, dtype=dtype, load_in_4bit=load_in_4bit,
                            merge=merge)
        self.model_path, self.model, self.tokenizer = Path(model_path), loaded.model, loaded.tokenizer
        self.device, self.dtype, self.load_seconds = loaded.device, loaded.dtype, loaded.seconds
        self.max_batch: int | None = None  # lowered for good after an out-of-memory
        self.reset_prefix_cache(prefix_cache)
        prepare_tokenizer(self.tokenizer)

    @classmethod
    def from_loaded(cls, model: Any, tokenizer: Any, *, prefix_cache: bool = True) -> Engine:
        """An Engine around an already-built model and tokenizer (benchmarks with random-weight models)."""
        engine = cls.__new__(cls)
        engine.model_path = Path(getattr(model, "name_or_path", "") or "in-memory")
        engine.model, engine.tokenizer = model.eval(), prepare_tokenizer(tokenizer)
        engine.device, engine.dtype = str(model.device), model.dtype
        engine.max_batch, engine.load_seconds = None, 0.0
        engine.reset_prefix_cache(prefix_cache)
        return engine

    def reset_prefix_cache(self, enabled: bool) -> None:
        """Forget every cached prefix and turn the shared-prefix cache on or off."""
        self.prefix_cache = enabled
        self.prefix_tokens_reused = 0  # prompt tokens served from the shared-prefix cache (all calls together)
        self._prefix: tuple[tuple[int, ...], Any] | None = None  # (prefix ids, batch-1 cache): the last one built
        self._batch_prefix: tuple[tuple[int, ...], Any] | None = None  # the one the running generate() call uses
        self._prefix_broken = False  # building one failed once: stay on the plain path, log once

    # ------------------------------------------------------------------ generation
    def generate(
        self, prompts: Sequence[str], *, max_new_tokens: int, batch_size: int, progress: bool = False
    ) -> list[str]:
        """Greedy completions (decoded new tokens only) for `prompts`, returned in input order."""
        if batch_size < 1:
            raise InputError("batch_size must be >= 1")
        if not prompts:
            return []
        encoded = self.tokenizer(list(prompts), add_special_tokens=False)["input_ids"]  # one call: parallel
        self._batch_prefix = self._shared_prefix(encoded, max_new_tokens)
        try:
            return self._run_batches(encoded, batch_size, 1, progress, "generate",
                                     lambda idx: self._generate_batch([encoded[i] for i in idx], max_new_tokens))
        finally:
            self._batch_prefix = None

    def sample(
        self, prompts: Sequence[str], config: SamplingConfig, *, batch_size: int, progress: bool = False
    ) -> list[list[str]]:
        """`config.n` sampled completions (decoded new tokens, stop strings trimmed) per prompt, in input order.

        Each prompt is prefilled once and its cache repeated to its n sequences (kit.llm.sampling). `batch_size`
        counts sequences decoded together: max(1, batch_size // n) prompts per batch, a prompt's n sequences
        always in one batch. The same prompt, config and model give the same sequences in any batch or call.
        """
        if batch_size < 1:
            raise InputError("batch_size must be >= 1")
        if not prompts:
            return []
        encoded = self.tokenizer(list(prompts), add_special_tokens=False)["input_ids"]
        seeds = [[row_seed(config.seed, p, j) for j in range(config.n)] for p in prompts]
        self._batch_prefix = self._shared_prefix(encoded, config.max_new_tokens)
        try:
            return self._run_batches(encoded, batch_size, config.n, progress, "sample", lambda idx: self._sample_batch(
                [encoded[i] for i in idx], [s for i in idx for s in seeds[i]], config))
        finally:
            self._batch_prefix = None

    def _run_batches(self, encoded: list[list[int]], batch_size: int, rows_per_prompt: int, progress: bool,
                     desc: str, run: Callable[[list[int]], list[Any]]) -> list[Any]:
        """`run(indices)` over batches of prompts, longest first; its results back in input order.

        A batch holds `batch_size` rows (sequences), each prompt `rows_per_prompt` of them. On out-of-memory the
        batch is halved, for this and later calls, and retried; a batch of one prompt that does not fit fails.
        """
        order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))  # longest first
        outputs: list[Any] = [None] * len(encoded)
        bar = progress_bar(len(encoded), progress, desc)
        pos = 0
        while pos < len(order):
            size = max(1, min(batch_size, self.max_batch or batch_size) // rows_per_prompt)
            idx = order[pos:pos + size]
            try:
                results = run(idx)
            except Exception as exc:
                if not is_oom(exc) or len(idx) == 1:
                    raise
                free_memory()
                self.max_batch = max(1, len(idx) * rows_per_prompt // 2)  # half of what failed, from now on
                log.warning("out of memory at batch %d: retrying with batch %d", len(idx) * rows_per_prompt,
                            self.max_batch)
                continue
            for i, result in zip(idx, results, strict=True):
                outputs[i] = result
            pos += len(idx)
            if bar is not None:
                bar.update(len(idx))
        if bar is not None:
            bar.close()
        return outputs

    def _generate_batch(self, ids: list[list[int]], max_new_tokens: int) -> list[str]:
        import torch

        with torch.inference_mode():  # local, so a training process using the Engine keeps its autograd
            return self._decode_batch(ids, max_new_tokens)

    def _padded(self, ids: list[list[int]]) -> tuple[list[int], list[list[int]], list[list[int]]]:
        """(shared prefix, rows, masks) for a batch: each row is [prefix][left pad][own tail], all one width."""
        pad = self.tokenizer.pad_token_id
        prefix, _ = self._batch_prefix or ((), None)
        head, tails = list(prefix), [x[len(prefix):] for x in ids]
        width = len(head) + max(len(x) for x in tails)
        rows = [head + [pad] * (width - len(head) - len(x)) + x for x in tails]
        masks = [[1] * len(head) + [0] * (width - len(head) - len(x)) + [1] * len(x) for x in tails]
        return head, rows, masks

    def _decode_batch(self, ids: list[list[int]], max_new_tokens: int) -> list[str]:
        import torch

        pad = self.tokenizer.pad_token_id
        cache = self._batch_prefix[1] if self._batch_prefix else None
        head, rows, masks = self._padded(ids)
        width = len(rows[0])
        extra: dict[str, Any] = {}
        if cache is not None:
            # generate() grows the cache it is given, so every batch gets its own copy, one row per prompt.
            # Position ids come from the mask's running sum, so each tail continues at len(prefix).
            extra[prefix_cache.cache_kwarg(self.model)] = prefix_cache.expanded_cache(cache, len(ids))
        try:
            out = self.model.generate(
                input_ids=torch.tensor(rows, device=self.model.device),
                attention_mask=torch.tensor(masks, device=self.model.device), max_new_tokens=max_new_tokens,
                do_sample=False, temperature=None, top_p=None, top_k=None, pad_token_id=pad,
                eos_token_id=self.tokenizer.eos_token_id, **extra,
            )
        except Exception as exc:
            if cache is None or is_oom(exc):
                raise  # the plain path's errors, and out-of-memory (the caller halves the batch), go up
            self._give_up_prefix(exc)  # a transformers whose generate() cannot continue a given cache
            return self._decode_batch(ids, max_new_tokens)
        self.prefix_tokens_reused += len(head) * len(ids)
        return self.tokenizer.batch_decode(out[:, width:], skip_special_tokens=True)

    def _sample_batch(self, ids: list[list[int]], seeds: list[int], config: SamplingConfig) -> list[list[str]]:
        """n sampled texts for each prompt of one batch: one prefill of the prompts, then the cache repeated."""
        import torch

        from kit.llm import sampling
        from kit.llm.kv_room import with_room

        with torch.inference_mode():
            cache = self._batch_prefix[1] if self._batch_prefix else None
            head, rows, masks = self._padded(ids)
            device = self.model.device
            kv = with_room(prefix_cache.expanded_cache(cache, len(ids)) if cache is not None
                           else prefix_cache.new_cache(self.model))  # decoding writes in place, not by concatenation
            step = sampling.prefill(self.model, torch.tensor([r[len(head):] for r in rows], device=device),
                                    torch.tensor(masks, device=device), kv)
            texts = sampling.decode(self.model, self.tokenizer, step.repeat(config.n), config, seeds)
        self.prefix_tokens_reused += len(head) * len(ids)
        return [texts[k * config.n:(k + 1) * config.n] for k in range(len(ids))]

    # ------------------------------------------------------------------ shared-prefix cache
    def _shared_prefix(self, encoded: list[list[int]], max_new_tokens: int) -> tuple[tuple[int, ...], Any] | None:
        """(prefix ids, its batch-1 cache) when every prompt starts with the same >= MIN_PREFIX_TOKENS tokens.

        The prefix stops one token short of the shortest prompt, so every row keeps a tail to prefill. The last
        cache built is kept and reused by any later call whose prompts all start with it (a caller working chunk
        by chunk sends the same few-shot conversation first in every call). A failure
        (an old transformers without the cache API) logs once and leaves the plain, uncached path in charge; a
        sliding-window model whose window the prompts pass skips the cache.
        """
        if not self.prefix_cache or self._prefix_broken:
            return None
        window = getattr(prefix_cache.base_model(self.model).config, "sliding_window", None)
        if window and max(len(x) for x in encoded) + max_new_tokens > window:
            return None  # a sliding-window cache would drop prefix keys that the uncached path still sees
        if self._prefix is not None and all(prefix_cache.starts_with(x, self._prefix[0]) for x in encoded):
            return self._prefix  # the kept prefix fits every row (a later chunk, other endings, a single row)
        length = min(prefix_cache.common_prefix_length(encoded), min(len(x) for x in encoded) - 1)
        if len(encoded) < 2 or length < MIN_PREFIX_TOKENS:
            return None  # one prompt shares nothing with anything: caching its head would save no work
        prefix = tuple(encoded[0][:length])
        self._prefix = None  # release the old one before building the next
        try:
            self._prefix = (prefix, prefix_cache.build(self.model, prefix))
        except Exception as exc:
            if is_oom(exc):
                free_memory()
                return None  # no room for it now; the plain path has its own back-off
            self._give_up_prefix(exc)
            return None
        return self._prefix

    def _give_up_prefix(self, exc: BaseException) -> None:
        """Stop using shared-prefix caches for good (this engine), saying why once."""
        self._prefix_broken, self._prefix, self._batch_prefix = True, None, None
        log.warning("shared-prefix cache unavailable (%s: %s); generating without it", type(exc).__name__, exc)

    def chunk_rows(self, batch_size: int) -> int:
        """Rows to hand to one `generate` call when working chunk by chunk (one batch here)."""
        return batch_size

    def close(self) -> None:
        """Release the model's memory (a kernel may load another model next); the engine is done."""
        self.model = None
        self._prefix = self._batch_prefix = None
        free_memory()


def prepare_tokenizer(tokenizer: Any) -> Any:
    """`tokenizer` set up for batched generation: left padding, and a pad token (Mistral ships without one)."""
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def progress_bar(total: int, enabled: bool, desc: str) -> Any:
    """A tqdm bar over `total` rows, or None when not `enabled`."""
    if not enabled:
        return None
    from tqdm import tqdm

    # A long mininterval keeps a 9-hour kernel's notebook output small.
    return tqdm(total=total, desc=desc, unit="row", mininterval=10.0, smoothing=0.1)


def length_order(prompts: Sequence[str], tokenizer: Any) -> list[int]:
    """Indices of `prompts`, longest first (the order the Engine batches them in)."""
    lengths = [len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    return sorted(range(len(prompts)), key=lambda i: -lengths[i])
