"""AIMO3 (AI Mathematical Olympiad, Progress Prize 3) as generic code sees it: the `kit.pack.Pack` registered
under the `kit.packs` entry point `ai-mathematical-olympiad-progress-prize-3` (pyproject.toml).

Cheap to import (`kit --help` finds packs): no torch, grpc or polars here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kit.errors import InputError
from kit.pack import EmulatorView, KernelSpec, PackDefaults, Recipe, SubmissionSpec
from kit.packs.aimo.competition import LABELS_FILE, OPTIONS, hidden_rows
from kit.packs.aimo.params import SolveParams
from kit.packs.aimo.settings import DEFAULTS, SECTIONS, SLUG

# notebooks/aimo/ in a checkout (this folder links there), package data in a wheel (pyproject.toml)
NOTEBOOK = (Path(__file__).resolve().parent / "notebooks").resolve() / "solve.ipynb"
RECIPES = {
    "greedy": Recipe("greedy", "One most-likely attempt, no tools.", needs_model=True),
    "vote": Recipe("vote", "Sampled attempts from one prefill, majority vote, stop once `agree` agree.",
                   needs_model=True),
    "tir": Recipe("tir", "One attempt whose ```python blocks run in the tool sandbox, output fed back.",
                  needs_model=True),
    "tir-vote": Recipe("tir-vote", "Tool-integrated attempts in waves, voted like `vote`.", needs_model=True),
}
# `kit demo`: greedy on short generations (one torch thread: many times faster than spin-waiting ones on a busy
# CPU), two problems of each hidden part in the sandbox, and one reference problem for the run-local step: a
# kernel run costs about a minute before its first answer here (imports, the model), and the demo makes five.
DEMO_INFER = {"template": "greedy", "max_new_tokens": 32, "cpu_threads": 1}
DEMO_EDITION = {"sandbox_problems": 2}
DEMO_REHEARSAL = 1
COMMANDS = {"score": ("kit.packs.aimo.commands.score",
                      "Score a submission (parquet or CSV) against answers: accuracy, or penalized over two runs.")}


def wilson(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson interval of a proportion (sensible at 0 or n of n, unlike the normal one)."""
    if n == 0:
        return 0.0, 0.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


class Aimo3(PackDefaults):
    """AIMO3: integer answers 0..99999 served one problem per call to the competition's gateway."""

    slug = SLUG
    title = "AI Mathematical Olympiad - Progress Prize 3"
    submission = SubmissionSpec(("id", "answer"), "submission.parquet", mechanism="inference_server",
                                options=OPTIONS)
    kernel = KernelSpec(notebook=NOTEBOOK, params=SolveParams, hidden_rows=len(hidden_rows()),
                        labels_file=LABELS_FILE)
    command_table = COMMANDS  # `kit score`
    section_table = SECTIONS  # [aimo] (the edition's facts) and [infer] (the recipe's knobs)
    default_table = DEFAULTS  # the kernel's slug and title

    def recipes(self) -> Mapping[str, Recipe]:
        """greedy, vote, tir, tir-vote."""
        return RECIPES

    def check_data(self, folder: Path) -> int:
        """test.csv with id and problem and unique ids; the labels, when present, for every id (InputError)."""
        from kit.packs.aimo.metric import read_answers
        from kit.tables import read_rows

        test = Path(folder) / "test.csv"
        if not test.is_file():
            raise InputError(f"{folder}: no test.csv")
        ids = [r["id"] for r in read_rows(test, required=("id", "problem"))]
        if len(set(ids)) != len(ids):
            raise InputError(f"{test}: duplicate ids")
        labels = Path(folder) / self.kernel.labels_file
        if labels.is_file():
            missing = set(ids) - set(read_answers(labels))
            if missing:
                raise InputError(f"{labels}: no answer for id {sorted(missing)[0]}")
        return len(ids)

    def mini_competition(self) -> Path:
        """The ten reference problems and their answers."""
        from kit.packs.aimo.competition import mini_competition_dir

        return mini_competition_dir()

    def score(self, submission: Path, labels: Path, **options: Any) -> dict[str, Any]:
        """Accuracy over the problems the submission answers, with a 95% Wilson interval."""
        rows = self.row_scores(submission, labels)
        correct = int(sum(rows.values()))
        low, high = wilson(correct, len(rows))
        return {"mean": correct / len(rows) if rows else 0.0, "ci_low": low, "ci_high": high, "n": len(rows),
                "correct": correct}

    def row_scores(self, submission: Path, labels: Path, **options: Any) -> dict[str, float]:
        """1.0 per problem answered exactly, 0.0 otherwise, over the submission's ids."""
        from kit.packs.aimo.metric import read_answers

        given, truth = read_answers(submission), read_answers(labels)
        unknown = sorted(set(given) - set(truth))
        if unknown:
            raise InputError(f"{labels}: no answer for submission id {unknown[0]}")
        return {i: float(a == truth[i]) for i, a in given.items()}

    def emulator(self) -> EmulatorView:
        """The sandbox's AIMO3."""
        from kit.packs.aimo.competition import EmulatedAimo

        return EmulatedAimo()

    def demo_config(self, cfg: Any, model: str) -> Any:
        """A short CPU run: greedy, short generations on one torch thread, two problems of each hidden part."""
        import dataclasses

        return cfg.updated(infer=dataclasses.replace(cfg.infer, **DEMO_INFER),
                           aimo=dataclasses.replace(cfg.section("aimo"), **DEMO_EDITION))

    def demo_rehearsal(self, work: Path) -> Path | None:
        """The first DEMO_REHEARSAL reference problems with their answers, for the demo's run-local step."""
        from kit.tables import read_rows, write_rows

        mini, folder = self.mini_competition(), Path(work) / "rehearsal"
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("test.csv", self.kernel.labels_file):
            rows = read_rows(mini / name)[:DEMO_REHEARSAL]
            write_rows(folder / name, rows, list(rows[0]))
        return folder

    def sandbox_settings(self, cfg: Any) -> Mapping[str, Any]:
        """[aimo] sandbox_problems as the sandbox's `hidden_rows` (0: every hidden problem), always sent so that a
        workspace without it puts back the whole set another one shrank."""
        return {"hidden_rows": int(cfg.section("aimo").sandbox_problems)}


PACK = Aimo3()
