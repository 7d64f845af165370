"""toy-echo: a second competition pack, kept with the tests to prove the seam (issue 14, item 6).

The competition: test.csv has `key` and `word`; a submission has `key` and `echo`; the answer is the word in upper
case; the metric is the share of exact matches. Ten rows; keys k01-k05 are the public leaderboard, k06-k10 the
private one. Its kernel needs no model and imports nothing of the kit. It imports only generic kit modules, and is
found through a real `kit.packs` entry point (tests/test_toy_pack.py writes the dist-info).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.errors import ConfigError, InputError
from kit.pack import KernelSpec, PackDefaults, Recipe, SubmissionSpec
from kit.tables import read_rows

SLUG = "toy-echo"
HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
COLUMNS = ("key", "echo")
PUBLIC = {f"k{i:02d}" for i in range(1, 6)}


@dataclass
class EchoParams:
    """echo.ipynb's parameters (the `config` metadata names the kit.toml key a value comes from)."""

    template: str = field(default="upper", metadata={"help": "upper: the answer; copy: the word as given",
                                                     "config": "infer.template"})
    sources: dict = field(default_factory=lambda: {"competition": SLUG},
                          metadata={"help": "attached sources by name -> ref", "content": False})  # refs differ
    # between run-local (local folders) and a submission (pinned versions) of the same content
    input_dir: str = field(default="/kaggle/input", metadata={"help": "where Kaggle mounts the attached sources",
                                                              "content": False})  # a place: not what decides

    def __post_init__(self) -> None:
        if self.template not in RECIPES:
            raise ConfigError(f"unknown template {self.template!r} for {SLUG}", hint=f"known: {', '.join(RECIPES)}")


RECIPES = {"upper": Recipe("upper", "Upper-case the word: the answer."),
           "copy": Recipe("copy", "The word as given: right only where it is upper case already.")}


def matches(submission: Path, labels: Path) -> dict[str, float]:
    """{key: 1.0 for an exact match, else 0.0} over the submission's keys."""
    answers = {r["key"]: r["echo"] for r in read_rows(labels, required=COLUMNS)}
    given = {r["key"]: r["echo"] for r in read_rows(submission, required=COLUMNS)}
    missing = [k for k in given if k not in answers]
    if missing:
        raise InputError(f"{labels}: no answer for key {missing[0]!r}")
    return {k: float(given[k] == answers[k]) for k in given}


def exact_share(submission: Path, labels: Path, keys: set[str] | None = None) -> tuple[float, int]:
    """(share of exact matches, rows) over the submission's keys (or `keys` of them)."""
    chosen = [hit for k, hit in matches(submission, labels).items() if keys is None or k in keys]
    return (sum(chosen) / len(chosen) if chosen else 0.0), len(chosen)


class EmulatedEcho:
    """The sandbox's toy-echo: two public test rows, all ten on the scoring re-run."""

    slug = SLUG
    submission_file = "submission.csv"
    mechanism = "file"
    seed_leaderboard = (("Seeded Echo Team", 0.5),)

    def mount(self, dest: Path, hidden: bool) -> Path:
        """The competition folder a kernel sees."""
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA / "sample_submission.csv", dest / "sample_submission.csv")
        lines = (DATA / "test.csv").read_text(encoding="utf-8").splitlines(keepends=True)
        (dest / "test.csv").write_text("".join(lines if hidden else lines[:3]), encoding="utf-8")
        return dest

    def score(self, submission: Path) -> dict[str, float]:
        """{'public', 'private'}: exact-match share over each part of the keys."""
        labels = DATA / "test_labels.csv"
        private = {r["key"] for r in read_rows(labels)} - PUBLIC
        return {"public": exact_share(submission, labels, PUBLIC)[0],
                "private": exact_share(submission, labels, private)[0]}


class ToyEcho(PackDefaults):
    """The toy-echo competition as generic code sees it."""

    slug = SLUG
    title = "Toy Echo"
    submission = SubmissionSpec(COLUMNS)
    kernel = KernelSpec(notebook=HERE / "echo.ipynb", params=EchoParams, hidden_rows=10)

    def recipes(self) -> Mapping[str, Recipe]:
        """upper and copy."""
        return RECIPES

    def check_data(self, folder: Path) -> int:
        """test.csv with key and word."""
        test = Path(folder) / "test.csv"
        if not test.is_file():
            raise InputError(f"{folder}: no test.csv")
        return len(read_rows(test, required=("key", "word")))

    def mini_competition(self) -> Path:
        """The ten rows and their answers."""
        return DATA

    def score(self, submission: Path, labels: Path, **options: Any) -> dict[str, Any]:
        """Exact-match share; no confidence interval worth the name on ten rows, so both ends are the mean."""
        mean, n = exact_share(Path(submission), Path(labels))
        return {"mean": mean, "ci_low": mean, "ci_high": mean, "n": n}

    def row_scores(self, submission: Path, labels: Path, **options: Any) -> dict[str, float]:
        """1 for an exact match, 0 otherwise, by key: `score` is their mean."""
        return matches(Path(submission), Path(labels))

    def emulator(self) -> EmulatedEcho:
        """The sandbox's view."""
        return EmulatedEcho()

    def config_defaults(self) -> Mapping[str, Mapping[str, Any]]:
        """Its own kernel and recipe."""
        return {"kaggle": {"kernel_slug": "toy-echo-kernel", "kernel_title": "toy echo kernel"},
                "infer": {"template": "upper"}}


PACK = ToyEcho()
