"""AIMO's scores, locally: accuracy on one run, penalized accuracy over the two private reruns.

Public leaderboard: the number of problems answered exactly (reported here with the fraction). Private
leaderboard: the notebook runs twice; a problem scores 1 when both runs are right, 0.5 when one is, 0 otherwise,
and the score is the mean.

Submissions are what the gateway writes (`submission.parquet`) or a CSV, both with columns `id,answer`; the
answers file is a CSV with `id,answer` (extra columns, such as `problem`, are ignored). Answers must be integers:
an int column in parquet, an optional sign and digits in CSV. A float column, even of whole numbers, is an error:
it means the predict function returned floats, and the kit says so rather than rounding. An integer outside
0..99999 is not an error, just wrong (the gateway checks no range). Every problem must have exactly one answer and
every id must be one of the answers file's; each error is one line naming the file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kit.errors import InputError
from kit.tables import read_header, read_rows

_INTEGER = re.compile(r"^[+-]?\d+$")
_SHOW = 3  # ids named in an error line


@dataclass(frozen=True)
class Accuracy:
    """One run: how many problems it answered exactly, of how many, and which it missed."""

    correct: int
    total: int
    wrong: tuple[str, ...]

    @property
    def score(self) -> float:
        """The fraction answered exactly."""
        return self.correct / self.total if self.total else 0.0


@dataclass(frozen=True)
class Penalized:
    """Two runs: the points of each problem (1, 0.5 or 0) and their mean."""

    points: Mapping[str, float]

    @property
    def score(self) -> float:
        """Penalized accuracy: the mean of the points."""
        return sum(self.points.values()) / len(self.points) if self.points else 0.0

    @property
    def both_right(self) -> int:
        """Problems both runs answered exactly."""
        return sum(p == 1.0 for p in self.points.values())


def _ids(path: Path, ids: list[str]) -> list[str]:
    """`ids`, checked: none empty, none twice."""
    if any(not i for i in ids):
        raise InputError(f"{path}: {sum(not i for i in ids)} row(s) have an empty id")
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        raise InputError(f"{path}: duplicate id(s) {', '.join(dupes[:_SHOW])}")
    return ids


def _integer(path: Path, row_id: str, value: object) -> int:
    """`value` as an int, or InputError naming the file and the row."""
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise InputError(f"{path}: answer {value!r} for id {row_id} is not an integer")


def _read_csv(path: Path) -> dict[str, int]:
    """`id -> answer` from a CSV file (stdlib reader: ids stay exactly as written)."""
    header = read_header(path)
    if "id" not in header or "answer" not in header:
        raise InputError(f"{path}: needs columns id,answer (found {','.join(header) or 'none'})")
    rows = read_rows(path)
    ids = _ids(path, [r["id"].strip() for r in rows])
    return {i: _integer(path, i, r["answer"]) for i, r in zip(ids, rows, strict=True)}


def _read_parquet(path: Path) -> dict[str, int]:
    """`id -> answer` from a parquet file, such as the gateway's submission.parquet."""
    import pandas as pd  # only here: the CSV path and the scores need no pandas

    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        raise InputError(f"{path}: not a readable parquet file ({type(exc).__name__}: {exc})") from None
    if "id" not in frame.columns or "answer" not in frame.columns:
        raise InputError(f"{path}: needs columns id,answer (found {','.join(map(str, frame.columns)) or 'none'})")
    ids = _ids(path, [str(i).strip() for i in frame["id"].tolist()])
    answers = frame["answer"]
    if pd.api.types.is_float_dtype(answers.dtype) or pd.api.types.is_bool_dtype(answers.dtype):
        raise InputError(f"{path}: the answer column is {answers.dtype}, not integers (first id {ids[0]})")
    return {i: _integer(path, i, v if isinstance(v, str) else _plain(v)) for i, v in zip(ids, answers.tolist(),
                                                                                           strict=True)}


def _plain(value: object) -> object:
    """numpy scalars as Python ones (`tolist` already does this for plain columns; object columns may hold them)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def read_answers(path: Path | str) -> dict[str, int]:
    """`id -> answer` from a CSV or parquet file with columns id,answer; InputError (one line) when malformed."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    return _read_parquet(path) if path.suffix == ".parquet" else _read_csv(path)


def _check_ids(path: Path, submitted: Mapping[str, int], truth: Mapping[str, int]) -> None:
    """InputError naming `path` unless it answers exactly the ids of `truth`."""
    missing = sorted(set(truth) - set(submitted))
    extra = sorted(set(submitted) - set(truth))
    if missing:
        raise InputError(f"{path}: {len(missing)} id(s) missing, first {', '.join(missing[:_SHOW])}")
    if extra:
        raise InputError(f"{path}: {len(extra)} id(s) not in the answers, first {', '.join(extra[:_SHOW])}")


def accuracy(submitted: Mapping[str, int], truth: Mapping[str, int]) -> Accuracy:
    """Exact-match accuracy of `submitted` over every id of `truth` (an absent id counts as wrong)."""
    wrong = tuple(sorted(i for i, a in truth.items() if submitted.get(i) != a))
    return Accuracy(correct=len(truth) - len(wrong), total=len(truth), wrong=wrong)


def penalized_accuracy(first: Mapping[str, int], second: Mapping[str, int], truth: Mapping[str, int]) -> Penalized:
    """Per problem, the mean of the two runs' exact matches; the score is their mean."""
    return Penalized({i: ((first.get(i) == a) + (second.get(i) == a)) / 2 for i, a in sorted(truth.items())})


def score_file(submission: Path | str, answers: Path | str) -> Accuracy:
    """Accuracy of a submission file against an answers file, after checking both."""
    truth, submitted = read_answers(answers), read_answers(submission)
    _check_ids(Path(submission), submitted, truth)
    return accuracy(submitted, truth)


def score_reruns(first: Path | str, second: Path | str, answers: Path | str) -> Penalized:
    """Penalized accuracy of the two private reruns' submission files, after checking all three files."""
    truth = read_answers(answers)
    runs = []
    for path in (first, second):
        submitted = read_answers(path)
        _check_ids(Path(path), submitted, truth)
        runs.append(submitted)
    return penalized_accuracy(runs[0], runs[1], truth)
