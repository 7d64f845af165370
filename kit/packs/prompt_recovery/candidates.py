"""A row's candidate prompts for re-scoring: greedy ones (one per prime), sampled ones and the mean prompt, in that
order, deduplicated.

How many of each a template asks for are its fields (`primes`, `samples`, `mean_candidate`); `kit tune` picks them
on training rows (kit.packs.prompt_recovery.tuning). Order matters only where nothing re-ranks the pool (a row the
time guard leaves unranked): the greedy candidates, the ones `best` concatenates, come first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_SPACES = re.compile(r"\s+")


def candidate_key(text: str) -> str:
    """What two candidates must share to be the same prompt: case, runs of spaces and the closing punctuation do not
    count (the sampler and the primes often differ only there, and the embedding barely does)."""
    return _SPACES.sub(" ", text).strip().rstrip(".!?").strip().casefold()


def same_candidate(a: str | None, b: str | None) -> bool:
    """Whether `a` and `b` are the same prompt in the sense of `candidate_key` (None is never the same)."""
    return a is not None and b is not None and candidate_key(a) == candidate_key(b)


def candidate_pool(*groups: Iterable[str | None]) -> list[str]:
    """The non-empty candidates of `groups`, in order, each prompt once (its first spelling kept, stripped)."""
    seen: set[str] = set()
    pool: list[str] = []
    for group in groups:
        for cand in group:
            text = (cand or "").strip()
            key = candidate_key(text)
            if key and key not in seen:
                seen.add(key)
                pool.append(text)
    return pool


def row_pool(generated: Sequence[str | None], primes: int, samples: int, mean_prompt: str | None) -> list[str]:
    """One row's pool from its generated slots (`primes` greedy ones, then the sampled ones, as
    predict.generate_candidates lays them out) plus `mean_prompt` when given."""
    return candidate_pool(generated[:primes], generated[primes:primes + samples], [mean_prompt] if mean_prompt else [])


def ranked(pool: Sequence[str], scores: dict[str, float]) -> list[str]:
    """`pool` best first by `scores` (stable: ties keep the pool's order, as Rescorer.rank does)."""
    return sorted(pool, key=lambda c: -scores[c])
