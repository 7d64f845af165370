"""AIMO answer extraction (the rules table of kit/packs/aimo/answers.py) and voting."""

from __future__ import annotations

import pytest

from kit.packs.aimo.answers import extract_answer, last_box, parse_answer
from kit.packs.aimo.voting import Tally, early_stop, settled, vote

EXTRACTION = [
    # (completion, answer)
    (r"so the answer is \boxed{42}.", 42),
    (r"\boxed{ 42 }", 42),
    (r"\boxed{+42}", 42),
    (r"\boxed{042}", 42),
    (r"\boxed{42.0}", 42),
    (r"\boxed{42.}", 42),
    (r"\boxed{42.000}", 42),
    (r"\boxed{1,234}", 1234),
    (r"\boxed{1{,}234}", 1234),
    (r"\boxed{1\,234}", 1234),
    (r"\boxed{1\ 234}", 1234),
    (r"\boxed{12 345}", 12345),
    (r"\boxed{12,345.0}", 12345),
    (r"\boxed{\text{42}}", 42),
    (r"\boxed{\mathbf{42}}", 42),
    (r"\boxed{\textbf{ 42 }}", 42),
    (r"\boxed{{42}}", 42),
    (r"\boxed{$42$}", 42),
    (r"\boxed{\(42\)}", 42),
    (r"\boxed{\displaystyle 42}", 42),
    (r"\boxed{n = 42}", 42),
    (r"\boxed{x=42}", 42),
    (r"\boxed{a_1 = 42}", 42),
    (r"\boxed{a_{12} = 42}", 42),
    (r"\boxed{42^\circ}", 42),
    (r"\boxed{42^{\circ}}", 42),
    (r"\boxed{42°}", 42),
    (r"\boxed{42\%}", 42),
    (r"\boxed {42}", 42),
    (r"\fbox{42}", 42),
    (r"\boxed{0}", 0),
    (r"\boxed{99999}", 99999),
    (r"first \boxed{7}, then on reflection \boxed{8}", 8),  # the last box is the answer
    (r"\boxed{\text{the answer is } 5}", None),
    (r"\boxed{3.5}", None),
    (r"\boxed{1/2}", None),
    (r"\boxed{\frac{1}{2}}", None),
    (r"\boxed{2\sqrt{3}}", None),
    (r"\boxed{1, 2}", None),
    (r"\boxed{1,23}", None),  # not a thousands group
    (r"\boxed{1e3}", None),
    (r"\boxed{-5}", None),
    (r"\boxed{100000}", None),
    (r"\boxed{}", None),
    (r"\boxed{42", None),  # cut off mid-box
    (r"\boxed{7} and later \boxed{seven}", None),  # an unreadable last box: no fallback to the earlier one
    ("The answer is 42.", None),  # no box: no guess from the text
    ("", None),
]


@pytest.mark.parametrize(("completion", "expected"), EXTRACTION)
def test_extract_answer(completion, expected):
    assert extract_answer(completion) == expected


def test_last_box_balances_nested_and_escaped_braces():
    assert last_box(r"x \boxed{\frac{a}{b} + \{1\}} y") == r"\frac{a}{b} + \{1\}"
    assert last_box(r"\boxed{a} \boxed{b{c}}") == "b{c}"
    assert last_box(r"\boxed{a{b}") is None
    assert last_box("no box") is None


def test_parse_answer_reads_box_content_alone():
    assert parse_answer(" 1{,}000 ") == 1000
    assert parse_answer("twelve") is None


VOTES = [
    # (answers, weights, winner, ranked tallies as (answer, votes))
    ([3, 5, 3, None, 5, 3], None, 3, [(3, 3), (5, 2)]),
    ([5, 3, 5, 3], None, 3, [(3, 2), (5, 2)]),  # equal votes: the smaller answer, whatever the order
    ([3, 5, 5, 3], None, 3, [(3, 2), (5, 2)]),
    ([None, None], None, None, []),
    ([], None, None, []),
    ([3, 5, 5], [2.5, 1.0, 1.0], 3, [(3, 1), (5, 2)]),  # weight beats count
    ([3, 5, 5, 7], [1.0, 0.5, 0.5, 1.0], 5, [(5, 2), (3, 1), (7, 1)]),  # equal weight: more votes
]


@pytest.mark.parametrize(("answers", "weights", "winner", "ranked"), VOTES)
def test_vote(answers, weights, winner, ranked):
    result = vote(answers, weights)
    assert result.answer == winner
    assert [(t.answer, t.votes) for t in result.tallies] == ranked
    assert result.attempts == len(answers)
    assert result.answered == sum(a is not None for a in answers)


def test_vote_keeps_weights_and_rejects_bad_ones():
    assert vote([4, 4, 9], [0.25, 0.5, 0.5]).tallies[0] == Tally(4, 0.75, 2)
    with pytest.raises(ValueError, match="2 answers but 1 weights"):
        vote([1, 2], [1.0])
    with pytest.raises(ValueError, match="negative"):
        vote([1], [-1.0])


EARLY = [
    # (answers, k, stop with)
    ([7, 7, 3], 2, 7),
    ([7, 3, 9], 2, None),
    ([7, None, None, 7], 2, 7),  # answerless attempts never count
    ([None, None, None], 1, None),
    ([9, 9, 4, 4], 2, 4),  # both reached k: the smaller, as in vote
    ([5], 1, 5),
]


@pytest.mark.parametrize(("answers", "k", "expected"), EARLY)
def test_early_stop(answers, k, expected):
    assert early_stop(answers, k) == expected


def test_early_stop_needs_a_positive_k():
    with pytest.raises(ValueError, match="at least 1"):
        early_stop([1], 0)


SETTLED = [
    # (answers so far, planned attempts, settled answer)
    ([4, 4, 4], 5, 4),  # 2 to come cannot reach 3
    ([4, 4], 5, None),  # a new answer could take all 3 remaining
    ([4, 4, 9], 4, 4),  # 9 can reach 2 at most: a tie, which 4 wins as the smaller answer
    ([9, 9, 4], 4, None),  # 4 could tie at 2 and wins ties as the smaller answer
    ([4, 4, 9, None], 4, 4),  # nothing left to come
    ([None, None], 4, None),
]


@pytest.mark.parametrize(("answers", "planned", "expected"), SETTLED)
def test_settled(answers, planned, expected):
    assert settled(answers, planned) == expected
