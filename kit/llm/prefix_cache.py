"""Key/value cache helpers for the inference Engine (transformers 4.4x and 5.x).

The few-shot prompts of one run share a long identical head; its key/value cache is computed once at batch 1
and copied, expanded to each batch, into generate(). Sampling repeats a prefilled batch's cache to n rows per
prompt the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def new_cache(model: Any) -> Any:
    """An empty key/value cache of the layer kinds generate() itself would build for `model`."""
    from transformers import DynamicCache

    try:
        return DynamicCache(config=base_model(model).config)
    except TypeError:  # transformers 4.x
        return DynamicCache()


def build(model: Any, prefix: tuple[int, ...]) -> Any:
    """The key/value cache of `prefix` at batch 1, from the very model that generates (adapter included)."""
    import torch
    from transformers import DynamicCache

    if not (hasattr(DynamicCache, "batch_repeat_interleave") or hasattr(DynamicCache, "from_legacy_cache")):
        raise RuntimeError("this transformers' DynamicCache cannot be expanded to a batch")
    cache = new_cache(model)
    ids = torch.tensor([list(prefix)], device=model.device)
    with torch.inference_mode():
        model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=True, **{cache_kwarg(model): cache})
    if cache.get_seq_length() != len(prefix):
        raise RuntimeError(f"the model filled {cache.get_seq_length()} of {len(prefix)} prefix positions")
    return cache


def expanded_cache(cache: Any, rows: int) -> Any:
    """A fresh copy of a batch-1 cache with each layer repeated `rows` times (generate() grows what it gets)."""
    import copy

    if hasattr(cache, "batch_repeat_interleave"):
        return repeat_rows(copy.deepcopy(cache), rows)
    return repeat_rows(cache, rows)  # the legacy path below builds a new cache anyway


def repeat_rows(cache: Any, n: int) -> Any:
    """`cache` with each row repeated `n` times (row r becomes rows r*n .. r*n+n-1): in place where the cache can
    do it, else a new cache."""
    if hasattr(cache, "batch_repeat_interleave"):
        cache.batch_repeat_interleave(n)
        return cache
    # transformers 4.4x (the Kaggle images' era): rebuild from the legacy per-layer (key, value) tuples.
    legacy = cache.to_legacy_cache()
    return type(cache).from_legacy_cache(tuple((k.repeat_interleave(n, 0), v.repeat_interleave(n, 0))
                                               for k, v in legacy))


def select_rows(cache: Any, index: Any) -> Any:
    """`cache` with only the rows in `index` (a long tensor), in that order: in place where the cache can do it."""
    if hasattr(cache, "batch_select_indices"):
        cache.batch_select_indices(index)
        return cache
    legacy = cache.to_legacy_cache()
    return type(cache).from_legacy_cache(tuple((k[index], v[index]) for k, v in legacy))


def common_prefix_length(seqs: Sequence[Sequence[int]]) -> int:
    """Length of the longest run of leading ids that all of `seqs` share."""
    first, length = seqs[0], min(len(x) for x in seqs)
    for seq in seqs[1:]:
        n = 0
        while n < length and seq[n] == first[n]:
            n += 1
        length = n
    return length


def starts_with(seq: Sequence[int], prefix: tuple[int, ...]) -> bool:
    """True when `seq` begins with `prefix` and has at least one token after it."""
    return len(seq) > len(prefix) and tuple(seq[:len(prefix)]) == prefix


def base_model(model: Any) -> Any:
    """The transformers model under a peft wrapper (or the model itself)."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model


def cache_kwarg(model: Any) -> str:
    """The forward/generate keyword for a KV cache: `cache` in newer transformers, `past_key_values` before."""
    import inspect

    params = inspect.signature(base_model(model).forward).parameters
    return "cache" if "cache" in params else "past_key_values"
