"""Data-parallel generation: one worker process per GPU, behind the Engine's `generate` and `sample` interface.

Each worker is `python -m kit.llm.workers` with its own `CUDA_VISIBLE_DEVICES`, so each loads the whole model onto
one GPU (no `device_map` spreading: on 2x T4 two full copies decode twice as fast as one model split across both).
The parent keeps only the tokenizer (to render prompts) and talks to the workers over their stdin/stdout, one JSON
object per line. A `generate` or `sample` call deals the length-sorted prompts round-robin, so every worker gets an
even mix of long and short ones, and gathers the answers back into input order.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kit.errors import InputError, KitError
from kit.llm.sampling import SamplingConfig

log = logging.getLogger(__name__)


class WorkerError(KitError):
    """A generation worker process failed or exited."""


def gpu_count() -> int:
    """Visible CUDA devices (0 without torch CUDA)."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def load_engine(
    model_path: str | os.PathLike,
    adapter_path: str | os.PathLike | None = None,
    *,
    workers: int | None = None,
    device: str | None = None,
    dtype: str = "auto",
    load_in_4bit: bool = False,
    merge: bool = True,
) -> Any:
    """An in-process `Engine` for one device, or a `WorkerPool` with one process per GPU when several are
    visible (or when `workers` > 1 is asked for, e.g. CPU workers in tests). An adapter trained on another base
    model than `model_path` is refused in one line before anything loads."""
    from kit.llm.engine import Engine
    from kit.llm.modelsig import check_adapter_base

    check_adapter_base(adapter_path, model_path)

    if workers is None or workers == 0:
        workers = gpu_count() if device in (None, "cuda") and gpu_count() > 1 else 1
    opts = {"dtype": dtype, "load_in_4bit": load_in_4bit, "merge": merge}
    if workers == 1:
        return Engine(model_path, adapter_path, device=device, **opts)
    on_gpu = (device or ("cuda" if gpu_count() else "cpu")).startswith("cuda")
    if on_gpu and workers > gpu_count():
        raise InputError(f"{workers} GPU workers asked for but {gpu_count()} GPU(s) visible")
    return WorkerPool(model_path, adapter_path, workers=workers, on_gpu=on_gpu, **opts)


class WorkerPool:
    """Several `Engine`s in their own processes, used like one `Engine`."""

    def __init__(
        self,
        model_path: str | os.PathLike,
        adapter_path: str | os.PathLike | None = None,
        *,
        workers: int,
        on_gpu: bool,
        **engine_opts: Any,
    ) -> None:
        from transformers import AutoTokenizer

        self.model_path = Path(model_path)
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.model_path))
        spec = {"model_path": str(model_path), "adapter_path": str(adapter_path) if adapter_path else None,
                **engine_opts}
        threads = max(1, (os.cpu_count() or 1) // workers)
        self.procs: list[subprocess.Popen] = []
        try:
            for rank in range(workers):
                env = dict(os.environ)
                if on_gpu:
                    env["CUDA_VISIBLE_DEVICES"] = _visible(rank)
                    spec_rank = {**spec, "device": "cuda"}
                else:
                    env["OMP_NUM_THREADS"] = str(threads)
                    spec_rank = {**spec, "device": "cpu", "threads": threads}
                self.procs.append(subprocess.Popen(
                    [sys.executable, "-m", "kit.llm.workers", json.dumps(spec_rank)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, bufsize=1,
                ))
            for rank in range(workers):  # they load in parallel; wait for each to say it is ready
                self._read(rank)
        except BaseException:
            self.close()
            raise

    @property
    def workers(self) -> int:
        """Number of worker processes."""
        return len(self.procs)

    def chunk_rows(self, batch_size: int) -> int:
        """Rows per `generate` call when working chunk by chunk: one batch per worker."""
        return batch_size * self.workers

    def generate(
        self, prompts: Sequence[str], *, max_new_tokens: int, batch_size: int, progress: bool = False
    ) -> list[str]:
        """Greedy completions for `prompts` (input order), spread over the workers."""
        return self._spread(prompts, {"max_new_tokens": max_new_tokens, "batch_size": batch_size,
                                      "progress": progress})

    def sample(
        self, prompts: Sequence[str], config: SamplingConfig, *, batch_size: int, progress: bool = False
    ) -> list[list[str]]:
        """`config.n` sampled completions per prompt (input order), spread over the workers; the same sequences
        as one Engine gives, since each sequence's seed comes from its prompt, not from the worker."""
        return self._spread(prompts, {"sampling": asdict(config), "batch_size": batch_size, "progress": progress})

    def _spread(self, prompts: Sequence[str], request: dict[str, Any]) -> list[Any]:
        """Deal the length-sorted prompts round-robin, send each worker its share with `request`, gather."""
        if not prompts:
            return []
        from kit.llm.engine import length_order

        order = length_order(prompts, self.tokenizer)
        shards = [order[r::self.workers] for r in range(self.workers)]
        busy = []
        for rank, shard in enumerate(shards):
            if shard:
                self._send(rank, {"prompts": [prompts[i] for i in shard], **request})
                busy.append(rank)
        outputs: list[Any] = [None] * len(prompts)
        for rank in busy:
            for i, result in zip(shards[rank], self._read(rank)["outputs"], strict=True):
                outputs[i] = result
        return outputs

    def _send(self, rank: int, message: dict[str, Any]) -> None:
        try:
            self.procs[rank].stdin.write(json.dumps(message) + "\n")
            self.procs[rank].stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._died(rank) from None

    def _read(self, rank: int) -> dict[str, Any]:
        line = self.procs[rank].stdout.readline()
        if not line:
            raise self._died(rank)
        reply = json.loads(line)
        if "error" in reply:
            raise WorkerError(f"generation worker {rank} failed: {reply['error']}")
        return reply

    def _died(self, rank: int) -> WorkerError:
        code = self.procs[rank].wait(timeout=30)
        return WorkerError(f"generation worker {rank} exited with code {code}", hint="see its log above")

    def close(self) -> None:
        """Stop the workers (closing stdin ends their loop)."""
        for proc in self.procs:
            try:
                if proc.stdin:
                    proc.stdin.close()
                proc.wait(timeout=30)
            except Exception:
                proc.kill()
        self.procs = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "procs", None):
            self.close()


def _visible(rank: int) -> str:
    """The physical GPU for worker `rank`, honouring a CUDA_VISIBLE_DEVICES the parent already has."""
    parent = [d for d in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    return parent[rank] if parent else str(rank)


def serve(spec: dict[str, Any]) -> None:
    """Worker loop: load one Engine, then answer one JSON request per stdin line until stdin closes."""
    # The protocol owns the real stdout; anything else printing (libraries, warnings) goes to stderr.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        import torch

        from kit.llm.engine import Engine

        threads = spec.pop("threads", None)
        if threads:
            torch.set_num_threads(int(threads))
        engine = Engine(spec.pop("model_path"), spec.pop("adapter_path"), **spec)
    except Exception as exc:
        proto.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
        return
    proto.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        try:
            proto.write(json.dumps({"outputs": _answer(engine, request)}) + "\n")
        except Exception as exc:
            proto.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")


def _answer(engine: Any, request: dict[str, Any]) -> list[Any]:
    """One request's outputs: sampled sequences when it carries a sampling config, else greedy completions."""
    prompts, batch_size, progress = request["prompts"], request["batch_size"], request.get("progress", False)
    if "sampling" in request:
        return engine.sample(prompts, SamplingConfig(**request["sampling"]), batch_size=batch_size, progress=progress)
    return engine.generate(prompts, max_new_tokens=request["max_new_tokens"], batch_size=batch_size,
                           progress=progress)


def main(argv: list[str] | None = None) -> None:
    """Entry point of a worker process: `python -m kit.llm.workers '<spec json>'`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", help="JSON object of Engine arguments")
    serve(json.loads(parser.parse_args(argv).spec))


if __name__ == "__main__":
    main()
