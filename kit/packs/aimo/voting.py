"""Choosing one answer from several attempts, and knowing when to stop sampling (stdlib only).

Attempts without an answer (None) are counted but never vote. Ties are broken by total weight, then by the
number of votes, then by the smaller answer: a rule that ignores the order attempts finished in, which varies
from run to run, so the two private reruns pick the same answer from the same votes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Tally:
    """One candidate answer: its total weight and how many attempts gave it."""

    answer: int
    weight: float
    votes: int


@dataclass(frozen=True)
class Vote:
    """The outcome of a vote.

    answer: the winner, or None when no attempt gave an answer.
    tallies: every candidate, best first (the winner first).
    attempts: attempts counted, with or without an answer.
    """

    answer: int | None
    tallies: tuple[Tally, ...]
    attempts: int

    @property
    def votes(self) -> int:
        """Attempts that gave the winning answer."""
        return self.tallies[0].votes if self.tallies else 0

    @property
    def answered(self) -> int:
        """Attempts that gave any answer."""
        return sum(t.votes for t in self.tallies)


def vote(answers: Sequence[int | None], weights: Sequence[float] | None = None) -> Vote:
    """Weighted majority over `answers` (each weight 1.0 when `weights` is None); ValueError on a length
    mismatch or a negative weight."""
    if weights is None:
        weights = [1.0] * len(answers)
    if len(weights) != len(answers):
        raise ValueError(f"{len(answers)} answers but {len(weights)} weights")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    totals: dict[int, list[float]] = {}
    for answer, weight in zip(answers, weights, strict=True):
        if answer is not None:
            entry = totals.setdefault(answer, [0.0, 0])
            entry[0] += weight
            entry[1] += 1
    tallies = sorted((Tally(a, w, int(n)) for a, (w, n) in totals.items()),
                     key=lambda t: (-t.weight, -t.votes, t.answer))
    return Vote(tallies[0].answer if tallies else None, tuple(tallies), len(answers))


def early_stop(answers: Sequence[int | None], k: int) -> int | None:
    """The answer once `k` attempts agree on it (the smaller if two reach `k`), else None."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    agreed = [t.answer for t in vote(answers).tallies if t.votes >= k]
    return min(agreed) if agreed else None


def settled(answers: Sequence[int | None], planned: int) -> int | None:
    """The leading answer once the attempts still to come (of `planned` in all) cannot change the unweighted
    vote, else None: stopping then costs nothing."""
    result = vote(answers)
    if result.answer is None:
        return None
    remaining = planned - len(answers)
    runner_up = result.tallies[1] if len(result.tallies) > 1 else None
    if runner_up is None:
        return result.answer if result.votes > remaining else None
    # The runner-up, given every remaining vote, must still lose: fewer votes, or as many and a larger answer.
    best_case = runner_up.votes + remaining
    if best_case < result.votes or (best_case == result.votes and runner_up.answer > result.answer):
        return result.answer
    return None
