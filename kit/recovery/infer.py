"""Batched greedy generation (`Engine`) and row prediction (`predict_rows`).

The engine loads a base causal LM plus an optional LoRA adapter once, picks the precision the device can do
(bf16 on Ampere+, fp16 on T4/P100, fp32 on CPU), and generates for many prompts at a time: prompts sorted by
length (longest first, so an out-of-memory shows up on the first batch and time projections err on the
safe side), left padding, greedy decoding, halving the batch on CUDA out-of-memory. It returns only the
decoded NEW tokens, in input order. With several GPUs, `kit.recovery.workers.load_engine` runs one engine per
GPU in its own process behind the same `generate` interface.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.errors import InputError, MissingDependencyError

if TYPE_CHECKING:
    from kit.recovery.guard import SubmissionWriter, TimeGuard
    from kit.recovery.templates import Template

log = logging.getLogger(__name__)
SLOW_ENV = "KIT_SLOW_GENERATION_S"  # test hook: extra seconds slept per generated row


def pick_device(device: str | None = None) -> str:
    """`device` when given, else 'cuda' when a GPU is visible, else 'cpu'."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(device: str, dtype: str = "auto") -> Any:
    """torch dtype: 'auto' is fp32 on CPU, bf16 on compute capability >= 8 (Ampere+), else fp16 (T4, P100).

    Compute capability is checked rather than `torch.cuda.is_bf16_supported()`, which reports emulated bf16
    on T4 as supported although it is slow there.
    """
    import torch

    if dtype != "auto":
        try:
            return {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16,
                    "fp16": torch.float16, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}[dtype]
        except KeyError:
            raise InputError(f"unknown dtype '{dtype}'", hint="use auto, float32, float16 or bfloat16") from None
    if not device.startswith("cuda"):
        return torch.float32
    major, _ = torch.cuda.get_device_capability(torch.device(device))
    return torch.bfloat16 if major >= 8 else torch.float16


def dtype_kwargs(dtype: Any) -> dict[str, Any]:
    """`from_pretrained` keyword for the dtype: `dtype=` in transformers 5.x, `torch_dtype=` in 4.x."""
    import transformers

    major = int(transformers.__version__.split(".")[0])
    return {"dtype": dtype} if major >= 5 else {"torch_dtype": dtype}


def _is_oom(exc: BaseException) -> bool:
    import torch

    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", ())
    return isinstance(exc, oom) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


class Engine:
    """A causal LM (+ optional LoRA adapter) that generates greedily for batches of rendered prompts."""

    def __init__(
        self,
        model_path: str | os.PathLike,
        adapter_path: str | os.PathLike | None = None,
        *,
        device: str | None = None,
        dtype: str = "auto",
        load_in_4bit: bool = False,
        merge: bool = True,
        slow_generation_s: float | None = None,
    ) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model_path = Path(model_path)
        if not (self.model_path / "config.json").exists():
            raise InputError(f"no model at {self.model_path} (config.json missing)")
        self.device = pick_device(device)
        if self.device == "cuda":
            self.device = "cuda:0"  # an explicit index for device_map (each worker sees one GPU as cuda:0)
        self.dtype = pick_dtype(self.device, dtype)
        if slow_generation_s is None:
            slow_generation_s = float(os.environ.get(SLOW_ENV) or 0)
        self.slow_generation_s = slow_generation_s
        self.max_batch: int | None = None  # lowered for good after an out-of-memory
        started = time.time()
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.model_path))
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:  # Mistral ships without a pad token
            self.tokenizer.pad_token = self.tokenizer.eos_token
        kwargs: dict[str, Any] = dtype_kwargs(self.dtype)
        if load_in_4bit:
            kwargs.update(self._four_bit_kwargs())
        elif self.device.startswith("cuda"):
            kwargs["device_map"] = {"": self.device}  # straight to this one GPU, no CPU copy of the weights
        model = AutoModelForCausalLM.from_pretrained(str(self.model_path), **kwargs)
        if adapter_path:
            model = self._with_adapter(model, Path(adapter_path), merge and not load_in_4bit)
        if not load_in_4bit and not self.device.startswith("cuda"):
            model = model.to(self.device)
        model.eval()
        self.model = model
        self.load_seconds = time.time() - started
        log.info("loaded %s on %s (%s) in %.1fs", self.model_path.name, self.device, self.dtype, self.load_seconds)

    @classmethod
    def from_loaded(cls, model: Any, tokenizer: Any, *, slow_generation_s: float = 0.0) -> Engine:
        """An Engine around an already-built model and tokenizer (benchmarks with random-weight models)."""
        engine = cls.__new__(cls)
        engine.model_path = Path(getattr(model, "name_or_path", "") or "in-memory")
        engine.model, engine.tokenizer = model.eval(), tokenizer
        engine.device, engine.dtype = str(model.device), model.dtype
        engine.slow_generation_s, engine.max_batch, engine.load_seconds = slow_generation_s, None, 0.0
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        return engine

    def _four_bit_kwargs(self) -> dict[str, Any]:
        import importlib.util

        if not self.device.startswith("cuda"):
            raise MissingDependencyError("4-bit loading needs a CUDA GPU", hint="set load_in_4bit = false")
        if importlib.util.find_spec("bitsandbytes") is None:
            raise MissingDependencyError("4-bit loading needs bitsandbytes", hint="pip install bitsandbytes")
        from transformers import BitsAndBytesConfig

        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                   bnb_4bit_compute_dtype=self.dtype)
        return {"quantization_config": quant, "device_map": {"": self.device}}

    @staticmethod
    def _with_adapter(model: Any, adapter: Path, merge: bool) -> Any:
        if not (adapter / "adapter_config.json").exists():
            raise InputError(f"no LoRA adapter at {adapter} (adapter_config.json missing)")
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
        return model.merge_and_unload() if merge else model

    # ------------------------------------------------------------------ generation
    def generate(
        self, prompts: Sequence[str], *, max_new_tokens: int, batch_size: int, progress: bool = False
    ) -> list[str]:
        """Greedy completions (decoded new tokens only) for `prompts`, returned in input order."""
        if batch_size < 1:
            raise InputError("batch_size must be >= 1")
        if not prompts:
            return []
        encoded = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))  # longest first
        outputs: list[str] = [""] * len(prompts)
        bar = _progress(len(prompts), progress, "generate")
        pos = 0
        while pos < len(order):
            size = min(batch_size, self.max_batch or batch_size)
            idx = order[pos:pos + size]
            try:
                texts = self._generate_batch([encoded[i] for i in idx], max_new_tokens)
            except Exception as exc:
                if not _is_oom(exc) or len(idx) == 1:
                    raise
                self._free_memory()
                self.max_batch = max(1, len(idx) // 2)  # half of what failed, for this and later calls
                log.warning("out of memory at batch %d: retrying with batch %d", len(idx), self.max_batch)
                continue
            for i, text in zip(idx, texts, strict=True):
                outputs[i] = text
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

    def _decode_batch(self, ids: list[list[int]], max_new_tokens: int) -> list[str]:
        import torch

        pad = self.tokenizer.pad_token_id
        width = max(len(x) for x in ids)
        input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=self.model.device)
        mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], device=self.model.device)
        out = self.model.generate(
            input_ids=input_ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
            temperature=None, top_p=None, top_k=None, pad_token_id=pad,
            eos_token_id=self.tokenizer.eos_token_id,
        )
        texts = self.tokenizer.batch_decode(out[:, width:], skip_special_tokens=True)
        if self.slow_generation_s > 0:
            time.sleep(self.slow_generation_s * len(ids))
        return texts

    def _free_memory(self) -> None:
        import gc

        import torch

        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def chunk_rows(self, batch_size: int) -> int:
        """Rows to hand to one `generate` call when working chunk by chunk (one batch here)."""
        return batch_size

    def close(self) -> None:
        """Nothing to release in-process (kept for parity with the worker pool)."""


def _progress(total: int, enabled: bool, desc: str) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    # A long mininterval keeps a 9-hour kernel's notebook output small.
    return tqdm(total=total, desc=desc, unit="row", mininterval=10.0, smoothing=0.1)


# ---------------------------------------------------------------------------- rows


def predict_rows(
    rows: Sequence[dict[str, str]],
    template: Template,
    engine: Any | None,
    *,
    max_new_tokens: int = 32,
    batch_size: int = 8,
    max_field_tokens: int | None = 512,
    mean_prompt: str | None = None,
    guard: TimeGuard | None = None,
    writer: SubmissionWriter | None = None,
    progress: bool = False,
) -> list[str]:
    """Final submission strings for `rows` (dicts with id, original_text, rewritten_text), in input order.

    One candidate per template prime, breadth-first (prime 1 for every row, then prime 2 ...), so every row
    gets one prediction before any gets two. With a `guard`, no chunk starts once its projection passes the
    deadline; with a `writer`, each chunk's rows are written as soon as they are assembled. A template with
    no primes (`mean`) makes no model calls at all.
    """
    from kit.recovery.guard import TimeGuard

    rows = list(rows)
    primes = list(template.primes)
    candidates: list[list[str | None]] = [[None] * len(primes) for _ in rows]
    if primes and engine is None:
        raise InputError(f"template '{template.name}' needs a model (it has {len(primes)} prime(s))")
    guard = guard or TimeGuard(budget_seconds=10**9, margin_seconds=0)
    def render(i: int, prime: str) -> str:
        row = rows[i]
        return template.render_prompt(engine.tokenizer, row["original_text"], row["rewritten_text"], prime=prime,
                                      max_field_tokens=max_field_tokens)

    first = [render(i, primes[0]) for i in range(len(rows))] if primes else []
    order = _length_order(first, engine.tokenizer) if primes else []
    chunk = engine.chunk_rows(batch_size) if primes else 1
    bar = _progress(len(primes) * len(rows), progress, "predict")
    for p, idx in guard.schedule(len(primes), order, chunk):
        prime = primes[p]
        prompts = [first[i] if p == 0 else render(i, prime) for i in idx]
        texts = engine.generate(prompts, max_new_tokens=max_new_tokens, batch_size=batch_size)
        for i, text in zip(idx, texts, strict=True):
            candidates[i][p] = template.postprocess(text, prime, rows[i]["original_text"], rows[i]["rewritten_text"])
        if writer is not None:  # rows whose candidates were all rejected keep their fallback (and count as such)
            writer.update({rows[i]["id"]: _assemble(template, rows[i], candidates[i], mean_prompt)
                           for i in idx if any(c is not None for c in candidates[i])})
        if bar is not None:
            bar.update(len(idx))
    if bar is not None:
        bar.close()
    return [_assemble(template, row, cands, mean_prompt) for row, cands in zip(rows, candidates, strict=True)]


def _assemble(template: Template, row: dict[str, str], cands: list[str | None], mean_prompt: str | None) -> str:
    return template.assemble(cands, row["original_text"], row["rewritten_text"], mean_prompt=mean_prompt)


def _length_order(prompts: Sequence[str], tokenizer: Any) -> list[int]:
    """Indices of `prompts`, longest first (the same order serves every prime: primes are short)."""
    lengths = [len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    return sorted(range(len(prompts)), key=lambda i: -lengths[i])
