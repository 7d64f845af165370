"""The AIMO mini-competition: every solution computes its stored answer, and the shipped files are exactly what
scripts/make_aimo_data.py generates."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from kit.packs.aimo.answers import ANSWER_MAX, ANSWER_MIN
from kit.packs.aimo.metric import read_answers, score_file
from kit.tables import read_rows

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
sys.path.insert(0, str(SCRIPTS))
import aimo_sources  # noqa: E402
import make_aimo_data  # noqa: E402

PROBLEMS = aimo_sources.PROBLEMS
DATA = make_aimo_data.OUT


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.key for p in PROBLEMS])
def test_solution_computes_the_stored_answer(problem):
    assert problem.solve() == problem.answer


def test_problem_set_shape():
    assert len(PROBLEMS) >= 120
    tiers = Counter(p.tier for p in PROBLEMS)
    assert set(tiers) == set(aimo_sources.TIERS) and min(tiers.values()) >= 30, tiers
    keys = [p.key for p in PROBLEMS]
    assert len(set(keys)) == len(keys)
    ids = [make_aimo_data.problem_id(k) for k in keys]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[0-9a-f]{6}", i) for i in ids)
    assert len({p.text for p in PROBLEMS}) == len(PROBLEMS)  # no statement twice
    for p in PROBLEMS:
        assert ANSWER_MIN <= p.answer <= ANSWER_MAX and isinstance(p.answer, int), p.key
        assert p.text.count("$") % 2 == 0 and "\n" not in p.text, p.key  # inline math closes


def test_shipped_files_are_what_the_script_generates():
    assert make_aimo_data.drift(DATA, make_aimo_data.build()) == []


def test_splits_are_disjoint_and_cover_every_problem():
    files = {name: read_rows(DATA / name) for name in
             ("reference.csv", "hidden/public.csv", "hidden/private.csv", "hidden/extra.csv")}
    sizes = {name: len(rows) for name, rows in files.items()}
    assert (sizes["reference.csv"], sizes["hidden/public.csv"], sizes["hidden/private.csv"]) == (10, 50, 50)
    ids = [r["id"] for rows in files.values() for r in rows]
    assert len(ids) == len(set(ids)) == len(PROBLEMS)
    by_id = {make_aimo_data.problem_id(p.key): p for p in PROBLEMS}
    for rows in files.values():
        for r in rows:
            assert (r["problem"], int(r["answer"])) == (by_id[r["id"]].text, by_id[r["id"]].answer)
    for name in ("hidden/public.csv", "hidden/private.csv"):  # every tier in each scored set
        assert set(Counter(r["tier"] for r in files[name])) == set(aimo_sources.TIERS)


def test_files_have_the_competition_columns_and_score():
    assert list(read_rows(DATA / "reference.csv")[0]) == ["id", "problem", "answer"]
    test = read_rows(DATA / "test.csv")
    assert list(test[0]) == ["id", "problem"]
    sample = read_rows(DATA / "sample_submission.csv")
    assert [r["id"] for r in sample] == [r["id"] for r in test]
    assert score_file(DATA / "sample_submission.csv", DATA / "sample_submission.csv").score == 1.0
    public = DATA / "hidden" / "public.csv"
    assert len(read_answers(public)) == 50
    assert score_file(public, public).correct == 50  # the hidden sets are answers files the metric reads
