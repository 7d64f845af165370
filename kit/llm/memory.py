"""Accelerator memory: recognising an out-of-memory error and giving freed memory back.

The Engine halves its batch on out-of-memory and a kernel frees one model before loading the next; both need the
same two answers whatever torch version raised the error.
"""

from __future__ import annotations


def is_oom(exc: BaseException) -> bool:
    """True for an out-of-memory error from torch (the typed one where this torch has it, else by its message)."""
    import torch

    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", ())
    return isinstance(exc, oom) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


def free_memory() -> None:
    """Give freed tensors back (Python garbage, then CUDA's cache) after an out-of-memory or a finished model."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
