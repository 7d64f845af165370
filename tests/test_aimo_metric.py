"""AIMO's local metric: accuracy of one run, penalized accuracy of two, one-line errors naming the file."""

from __future__ import annotations

import pandas as pd
import pytest

from kit.errors import InputError
from kit.packs.aimo.metric import accuracy, penalized_accuracy, read_answers, score_file, score_reruns

TRUTH = {"a1": 12, "b2": 0, "c3": 99999, "d4": 512}


@pytest.fixture
def answers_csv(tmp_path):
    path = tmp_path / "answers.csv"
    rows = "".join(f'{i},"problem, with a comma",{a}\n' for i, a in TRUTH.items())
    path.write_text("id,problem,answer\n" + rows)
    return path


def write_csv(path, pairs):
    path.write_text("id,answer\n" + "".join(f"{i},{a}\n" for i, a in pairs))
    return path


def write_parquet(path, ids, answers):
    pd.DataFrame({"id": ids, "answer": answers}).to_parquet(path)
    return path


def test_accuracy_counts_exact_matches():
    result = accuracy({"a1": 12, "b2": 1, "c3": 99999, "d4": 512}, TRUTH)
    assert (result.correct, result.total, result.wrong, result.score) == (3, 4, ("b2",), 0.75)


PENALIZED = [
    # (first run, second run, points of a1 b2 c3 d4, score)
    (TRUTH, TRUTH, [1, 1, 1, 1], 1.0),
    (TRUTH, {**TRUTH, "a1": 13}, [0.5, 1, 1, 1], 0.875),
    ({**TRUTH, "a1": 13}, {**TRUTH, "a1": 14, "b2": 7}, [0, 0.5, 1, 1], 0.625),
    ({i: -1 for i in TRUTH}, {i: 100000 for i in TRUTH}, [0, 0, 0, 0], 0.0),
]


@pytest.mark.parametrize(("first", "second", "points", "score"), PENALIZED)
def test_penalized_accuracy(first, second, points, score):
    result = penalized_accuracy(first, second, TRUTH)
    assert [result.points[i] for i in TRUTH] == points
    assert result.score == score
    assert result.both_right == points.count(1)


def test_score_file_reads_csv_and_parquet(tmp_path, answers_csv):
    csv = write_csv(tmp_path / "submission.csv", [("d4", 512), ("a1", 12), ("b2", "+0"), ("c3", 5)])
    assert score_file(csv, answers_csv).correct == 3
    parquet = write_parquet(tmp_path / "submission.parquet", ["a1", "b2", "c3", "d4"], [12, 0, 99999, 7])
    result = score_file(parquet, answers_csv)
    assert (result.correct, result.wrong) == (3, ("d4",))


def test_score_reruns(tmp_path, answers_csv):
    first = write_parquet(tmp_path / "run1.parquet", list(TRUTH), list(TRUTH.values()))
    second = write_csv(tmp_path / "run2.csv", [("a1", 12), ("b2", 3), ("c3", 99999), ("d4", 1)])
    result = score_reruns(first, second, answers_csv)
    assert result.score == (1 + 0.5 + 1 + 0.5) / 4


def test_out_of_range_answers_are_wrong_not_errors(tmp_path, answers_csv):
    csv = write_csv(tmp_path / "s.csv", [("a1", -12), ("b2", 0), ("c3", 199999), ("d4", 512)])
    assert score_file(csv, answers_csv).wrong == ("a1", "c3")


ERRORS = [
    # (file name, writer, message)
    ("missing.csv", None, "file not found"),
    ("s.csv", lambda p: write_csv(p, [("a1", 12), ("b2", 0), ("c3", 1)]), "1 id(s) missing, first d4"),
    ("s.csv", lambda p: write_csv(p, [*TRUTH.items(), ("zz", 1)]), "1 id(s) not in the answers, first zz"),
    ("s.csv", lambda p: write_csv(p, [*TRUTH.items(), ("a1", 12)]), "duplicate id(s) a1"),
    ("s.csv", lambda p: write_csv(p, [("a1", "12.0"), *list(TRUTH.items())[1:]]), "answer '12.0' for id a1"),
    ("s.csv", lambda p: write_csv(p, [("a1", ""), *list(TRUTH.items())[1:]]), "answer '' for id a1"),
    ("s.csv", lambda p: write_csv(p, [("", 1), *TRUTH.items()]), "1 row(s) have an empty id"),
    ("s.csv", lambda p: p.write_text("id,prediction\na1,12\n"), "needs columns id,answer"),
    ("s.parquet", lambda p: write_parquet(p, list(TRUTH), [12.0, 0.0, 99999.0, 512.0]),
     "the answer column is float64, not integers"),
    ("s.parquet", lambda p: write_parquet(p, list(TRUTH), ["12", "0", None, "512"]), "for id c3 is not an integer"),
    ("s.parquet", lambda p: write_parquet(p, list(TRUTH), pd.array([12, 0, None, 512], dtype="Int64")),
     "for id c3 is not an integer"),
    ("s.parquet", lambda p: p.write_bytes(b"not parquet"), "not a readable parquet file"),
]


@pytest.mark.parametrize(("name", "writer", "message"), ERRORS)
def test_errors_are_one_line_naming_the_file(tmp_path, answers_csv, name, writer, message):
    path = tmp_path / name
    if writer is not None:
        writer(path)
    with pytest.raises(InputError) as caught:
        score_file(path, answers_csv)
    text = str(caught.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_string_answers_in_parquet_are_read_as_integers(tmp_path):
    path = write_parquet(tmp_path / "s.parquet", ["x", "y"], ["7", " 8 "])
    assert read_answers(path) == {"x": 7, "y": 8}
