"""Row prediction: a template's candidates generated breadth-first over its primes under the time guard
(`generate_candidates`), an optional re-scoring phase, and each row's final string (`predict_rows`).

The generation itself is kit.llm.engine's Engine (or a worker pool behind the same interface).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kit.errors import InputError
from kit.llm.engine import length_order, progress_bar

if TYPE_CHECKING:
    from kit.kernel.guard import SubmissionWriter, TimeGuard
    from kit.llm.sampling import SamplingConfig
    from kit.packs.prompt_recovery.templates import Template


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
    rescorer: Any = None,
    rescore_method: str = "loglik",
    embedder: Any = None,
) -> list[str]:
    """Final submission strings for `rows` (dicts with id, original_text, rewritten_text), in input order.

    One candidate per template prime, breadth-first (prime 1 for every row, then prime 2 ...), so every row
    gets one prediction before any gets two; then the template's sampled candidates, in a later phase. With a
    `guard`, no chunk starts once its projection passes the deadline; with a `writer`, each chunk's rows are
    written as soon as they are assembled. A template with no primes (`mean`) makes no model calls at all. A
    re-scoring template (`rescore`) then ranks each row's candidates with `rescorer`
    (kit.packs.prompt_recovery.rescore.Rescorer) in a later phase under the same guard.
    """
    from kit.kernel.guard import TimeGuard

    if template.rescore and rescorer is None:
        raise InputError(f"template '{template.name}' needs a rewriter model to re-score its candidates")
    guard = guard or TimeGuard(budget_seconds=10**9, margin_seconds=0)
    candidates = generate_candidates(rows, template, engine, max_new_tokens=max_new_tokens, batch_size=batch_size,
                                     max_field_tokens=max_field_tokens, mean_prompt=mean_prompt, guard=guard,
                                     writer=writer, progress=progress)
    if template.rescore:
        from kit.packs.prompt_recovery.rescore import rescore_phase

        candidates = rescore_phase(rows, candidates, template, rescorer, guard=guard, writer=writer,
                                   mean_prompt=mean_prompt, chunk_rows=batch_size, method=rescore_method,
                                   embedder=embedder)
    return [_assemble(template, row, cands, mean_prompt) for row, cands in zip(rows, candidates, strict=True)]


def generate_candidates(rows: Sequence[dict[str, str]], template: Template, engine: Any | None, *,
                        max_new_tokens: int, batch_size: int, max_field_tokens: int | None,
                        mean_prompt: str | None, guard: TimeGuard, writer: SubmissionWriter | None,
                        progress: bool) -> list[list[str | None]]:
    """Each row's cleaned candidates: one per prime, then `template.samples` sampled ones (None where not generated
    or rejected); see predict_rows. The sampled ones come in a later phase of the guard (`sample`, its own rate),
    once every row has its greedy candidates."""
    from kit.packs.prompt_recovery.templates import with_prime

    rows = list(rows)
    primes = list(template.primes)
    candidates: list[list[str | None]] = [[None] * (len(primes) + template.samples) for _ in rows]
    if primes and engine is None:
        raise InputError(f"template '{template.name}' needs a model (it has {len(primes)} prime(s))")
    # A rendered prompt is the row's chat text plus the prime, so each row is rendered (and its fields
    # truncated) once, not once per prime inside the timed loop.
    base = [template.render_prompt(engine.tokenizer, row["original_text"], row["rewritten_text"], prime="",
                                   max_field_tokens=max_field_tokens) for row in rows] if primes else []
    order = length_order([with_prime(b, primes[0]) for b in base], engine.tokenizer) if primes else []
    chunk = engine.chunk_rows(batch_size) if primes else 1
    bar = progress_bar(len(primes) * len(rows), progress, "predict")
    for p, idx in guard.schedule(len(primes), order, chunk):
        prime = primes[p]
        prompts = [with_prime(base[i], prime) for i in idx]
        texts = engine.generate(prompts, max_new_tokens=max_new_tokens, batch_size=batch_size)
        for i, text in zip(idx, texts, strict=True):
            candidates[i][p] = template.postprocess(text, prime, rows[i]["original_text"], rows[i]["rewritten_text"])
        _write(writer, template, rows, candidates, idx, mean_prompt)
        if bar is not None:
            bar.update(len(idx))
    if bar is not None:
        bar.close()
    if primes and template.samples:
        _sample_candidates(rows, template, engine, base, order, candidates, max_new_tokens=max_new_tokens,
                           batch_size=batch_size, mean_prompt=mean_prompt, guard=guard, writer=writer)
    return candidates


def sampling_config(template: Template, max_new_tokens: int) -> SamplingConfig:
    """The template's sampling settings; a sequence stops at its first line break (the cleaner keeps one line)."""
    from kit.llm.sampling import SamplingConfig

    return SamplingConfig(temperature=template.sample_temperature, top_p=template.sample_top_p,
                          seed=template.sample_seed, n=template.samples, max_new_tokens=max_new_tokens, stop=("\n",))


def _sample_candidates(rows: list[dict[str, str]], template: Template, engine: Any, base: list[str],
                       order: list[int], candidates: list[list[str | None]], *, max_new_tokens: int, batch_size: int,
                       mean_prompt: str | None, guard: TimeGuard, writer: SubmissionWriter | None) -> None:
    """Fill each row's sampled slots (after its greedy ones) in the guard's `sample` phase: one prefill per row,
    `template.samples` sequences from it (Engine.sample)."""
    from kit.packs.prompt_recovery.templates import with_prime

    config = sampling_config(template, max_new_tokens)
    first = len(template.primes)
    phase = guard.phase("sample")
    # a batch holds batch_size rows' worth of sequences at least: sampling n per row costs about what n rows do
    sequences = max(batch_size, template.samples)
    for _, idx in phase.schedule(1, order, max(1, engine.chunk_rows(batch_size) // template.samples)):
        prompts = [with_prime(base[i], template.sample_prime) for i in idx]
        for i, texts in zip(idx, engine.sample(prompts, config, batch_size=sequences), strict=True):
            for j, text in enumerate(texts):
                candidates[i][first + j] = template.postprocess(text, template.sample_prime,
                                                                rows[i]["original_text"], rows[i]["rewritten_text"])
        _write(writer, template, rows, candidates, idx, mean_prompt)


def _write(writer: SubmissionWriter | None, template: Template, rows: list[dict[str, str]],
           candidates: list[list[str | None]], idx: list[int], mean_prompt: str | None) -> None:
    """Write the chunk's rows as assembled so far; rows whose candidates were all rejected keep their fallback
    (and count as such)."""
    if writer is not None:
        writer.update({rows[i]["id"]: _assemble(template, rows[i], candidates[i], mean_prompt)
                       for i in idx if any(c is not None for c in candidates[i])})


def _assemble(template: Template, row: dict[str, str], cands: list[str | None], mean_prompt: str | None) -> str:
    return template.assemble(cands, row["original_text"], row["rewritten_text"], mean_prompt=mean_prompt)
