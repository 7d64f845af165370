#!/usr/bin/env python3
"""LoRA training memory/throughput benchmark: largest per-device batch that fits, with and without
gradient checkpointing, and tokens/s at that batch.

Default shape: Mistral-7B (hidden 4096, 32 layers, 32 heads / 8 KV heads, MLP 14336, vocab 32000) with
random weights, sequence length 1024, LoRA r=8 on every linear projection (what `kit train` does), bf16
(fp16 on GPUs without bf16). Nothing is downloaded. One run takes a few minutes on one 80 GB GPU.

    python scripts/bench_train_gpu.py                 # on a GPU machine
    python scripts/bench_train_gpu.py --tiny          # CPU smoke run with a tiny shape (used by the tests)
    python scripts/bench_train_gpu.py --json out.json # also write the figures as JSON

The search doubles the batch until a step runs out of memory (or --max-batch), then bisects between the
last batch that fitted and the first that did not. The figure is printed last.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

SHAPES = {
    "mistral-7b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                       num_key_value_heads=8, vocab_size=32000),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=1024),
}


def largest_fitting(fits: Callable[[int], bool], max_batch: int) -> int:
    """Largest batch in [1, max_batch] for which `fits` holds (0 if none): doubling, then bisection.

    Assumes monotonicity (a batch that fits means every smaller one fits), as memory use does.
    """
    if not fits(1):
        return 0
    good, bad = 1, None
    while bad is None and good < max_batch:
        trial = min(good * 2, max_batch)
        if fits(trial):
            good = trial
        else:
            bad = trial
    while bad is not None and bad - good > 1:
        mid = (good + bad) // 2
        if fits(mid):
            good = mid
        else:
            bad = mid
    return good


def build_model(shape: str, device: str, dtype: Any, lora_r: int) -> Any:
    """Random-weight Mistral-shaped causal LM with LoRA on every linear projection except lm_head."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import MistralConfig, MistralForCausalLM

    cfg = MistralConfig(**SHAPES[shape], max_position_embeddings=4096, sliding_window=None)
    cfg.use_cache = False
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # build straight in the training dtype: no fp32 copy of 7B weights
    try:
        with torch.device(device):
            model = MistralForCausalLM(cfg)
    finally:
        torch.set_default_dtype(previous)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    lora = LoraConfig(r=lora_r, lora_alpha=2 * lora_r, lora_dropout=0.05, task_type="CAUSAL_LM",
                      target_modules=targets)
    return get_peft_model(model, lora)


def _is_oom(exc: BaseException) -> bool:
    return "out of memory" in str(exc).lower() or type(exc).__name__ == "OutOfMemoryError"


class Stepper:
    """One LoRA training step (forward, backward, AdamW) at a given batch size."""

    def __init__(self, model: Any, device: str, seq_len: int, vocab: int) -> None:
        import torch

        self.torch = torch
        self.model, self.device, self.seq_len, self.vocab = model, device, seq_len, vocab
        params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=1e-4)

    def step(self, batch: int) -> None:
        torch = self.torch
        ids = torch.randint(0, self.vocab, (batch, self.seq_len), device=self.device)
        loss = self.model(input_ids=ids, labels=ids).loss
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()

    def fits(self, batch: int) -> bool:
        try:
            self.step(batch)
            return True
        except Exception as exc:  # noqa: BLE001 - only out-of-memory is an answer here
            if not _is_oom(exc):
                raise
            return False
        finally:
            self.optimizer.zero_grad(set_to_none=True)
            gc.collect()
            if self.device.startswith("cuda"):
                self.torch.cuda.empty_cache()

    def throughput(self, batch: int, steps: int) -> dict[str, float]:
        torch = self.torch
        if self.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        self.step(batch)  # warm-up (kernels, allocator)
        start = time.perf_counter()
        for _ in range(steps):
            self.step(batch)
        seconds = (time.perf_counter() - start) / steps
        peak = torch.cuda.max_memory_allocated() / 2**30 if self.device.startswith("cuda") else 0.0
        return {"step_seconds": round(seconds, 4), "tokens_per_s": round(batch * self.seq_len / seconds, 1),
                "peak_gib": round(peak, 2)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    # fewer fragmentation failures after an out-of-memory probe (read when CUDA initialises)
    os.environ.setdefault("PYTORCH_CUDA_ALLOC_CONF", "expandable_segments:True")
    import torch

    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    bf16 = cuda and torch.cuda.get_device_capability()[0] >= 8  # T4/P100 (sm 7.x and below): fp16
    dtype = (torch.bfloat16 if bf16 else torch.float16) if cuda else torch.float32
    shape = "tiny" if args.tiny else "mistral-7b"
    started = time.time()
    model = build_model(shape, device, dtype, args.lora_r)
    stepper = Stepper(model, device, args.seq_len, SHAPES[shape]["vocab_size"])
    report: dict[str, Any] = {
        "shape": shape, "seq_len": args.seq_len, "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "dtype": str(dtype).replace("torch.", ""), "lora_r": args.lora_r, "max_batch_searched": args.max_batch,
        "build_seconds": round(time.time() - started, 1), "modes": {},
    }
    for checkpointing in (False, True):
        name = "checkpointing" if checkpointing else "no_checkpointing"
        if checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            model.enable_input_require_grads()
        else:
            model.gradient_checkpointing_disable()
        t0 = time.time()
        best = largest_fitting(stepper.fits, args.max_batch)
        mode: dict[str, Any] = {"max_batch": best, "search_seconds": round(time.time() - t0, 1)}
        if best:
            mode |= stepper.throughput(best, args.steps)
        report["modes"][name] = mode
        print(f"{name}: {json.dumps(mode, sort_keys=True)}", file=sys.stderr, flush=True)
    report["total_seconds"] = round(time.time() - started, 1)
    return report


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny shape (CPU smoke run)")
    parser.add_argument("--seq-len", type=int, default=None, help="tokens per sequence (default 1024; tiny 64)")
    parser.add_argument("--max-batch", type=int, default=None, help="search cap (default 256; tiny 8)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps at the largest batch")
    parser.add_argument("--lora-r", type=int, default=8)
    parser.add_argument("--json", default="", help="also write the report to this file")
    args = parser.parse_args(argv)
    args.seq_len = args.seq_len or (64 if args.tiny else 1024)
    args.max_batch = args.max_batch or (8 if args.tiny else 256)
    report = run(args)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2, sort_keys=True)
    print(json.dumps(report, indent=2, sort_keys=True))
    off, on = report["modes"]["no_checkpointing"], report["modes"]["checkpointing"]
    print(f"FIGURE {report['shape']} seq {report['seq_len']} on {report['device']}: max batch "
          f"{off['max_batch']} ({off.get('tokens_per_s', 0)} tok/s) without checkpointing, "
          f"{on['max_batch']} ({on.get('tokens_per_s', 0)} tok/s) with")
    return report


if __name__ == "__main__":
    main()
