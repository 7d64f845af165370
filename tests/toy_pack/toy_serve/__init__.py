"""toy-serve: a competition scored through the inference-server protocol, kept with the tests (issue 18, item 6).

The competition: test.csv has `id` and `question`; the answer is the question's length in characters; a
submission is `submission.parquet` with `id` and `answer`, written by the gateway; the metric is the share of exact
matches. Ten rows; q01-q05 are the public leaderboard, q06-q10 the private one. The gateway sends one row per call,
shuffled, like AIMO3's. Its notebook follows the public starters (the competition folder on sys.path, the
competition's inference-server module, `serve()` under the rerun flag, `run_local_gateway` otherwise), needs no
model and imports nothing of the kit. The sandbox's competition folder carries the kit-written `kaggle_evaluation`.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.errors import ConfigError, InputError
from kit.mechanisms.inference_server.kaggle_evaluation.core.spec import GatewaySpec
from kit.mechanisms.inference_server.package import write_package
from kit.pack import KernelSpec, PackDefaults, Recipe, SubmissionSpec
from kit.tables import read_rows

SLUG = "toy-serve"
HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
COLUMNS = ("id", "answer")
PUBLIC = {f"q{i:02d}" for i in range(1, 6)}
GATEWAY = GatewaySpec(competition=SLUG, module_prefix="toy_serve", gateway_class="ToyServeGateway",
                      server_class="ToyServeInferenceServer", row_id_column="id", target_column=None,
                      rows_per_call=1, shuffle=True, deadline_seconds=3.0, first_call_exempt=True,
                      predict_columns=("id", "question"))
OPTIONS = {"gateway_module": f"kaggle_evaluation.{GATEWAY.module_prefix}_gateway", "gateway_spec": GATEWAY}


@dataclass
class ServeParams:
    """serve.ipynb's parameters (the `config` metadata names the kit.toml key a value comes from)."""

    template: str = field(default="length", metadata={"help": "length: the answer; zero: always 0",
                                                      "config": "infer.template"})
    sources: dict = field(default_factory=lambda: {"competition": SLUG},
                          metadata={"help": "attached sources by name -> ref", "content": False})

    def __post_init__(self) -> None:
        if self.template not in RECIPES:
            raise ConfigError(f"unknown template {self.template!r} for {SLUG}", hint=f"known: {', '.join(RECIPES)}")


RECIPES = {"length": Recipe("length", "The question's length: the answer."),
           "zero": Recipe("zero", "Always 0: right nowhere.")}


def _answers(path: Path) -> dict[str, int]:
    """id -> answer of a CSV or Parquet file with the submission's columns (InputError naming it otherwise)."""
    from kit.mechanisms.file import read_table

    header, rows = read_table(Path(path))
    if not set(COLUMNS) <= set(header):
        raise InputError(f"{path}: needs columns {', '.join(COLUMNS)} (has {', '.join(header)})")
    try:
        return {r["id"]: int(float(r["answer"])) for r in rows}
    except ValueError as exc:
        raise InputError(f"{path}: an answer is not a number ({exc})") from None


def exact_share(submission: Path, labels: Path, keys: set[str] | None = None) -> tuple[float, int]:
    """(share of exact matches, rows) over the submission's ids (or `keys` of them)."""
    answers, given = _answers(labels), _answers(submission)
    chosen = [k for k in given if keys is None or k in keys]
    missing = [k for k in chosen if k not in answers]
    if missing:
        raise InputError(f"{labels}: no answer for id {missing[0]!r}")
    return (sum(given[k] == answers[k] for k in chosen) / len(chosen) if chosen else 0.0), len(chosen)


class EmulatedServe:
    """The sandbox's toy-serve: three public test rows, all ten on the scoring re-run, the gateway's package."""

    slug = SLUG
    submission_file = "submission.parquet"
    mechanism = "inference_server"
    mechanism_options = OPTIONS
    seed_leaderboard = (("Seeded Serve Team", 0.5),)

    def mount(self, dest: Path, hidden: bool) -> Path:
        """The competition folder a kernel (and, on a re-run, the gateway) sees."""
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA / "sample_submission.csv", dest / "sample_submission.csv")
        lines = (DATA / "test.csv").read_text(encoding="utf-8").splitlines(keepends=True)
        (dest / "test.csv").write_text("".join(lines if hidden else lines[:4]), encoding="utf-8")
        write_package(dest, GATEWAY)
        return dest

    def score(self, submission: Path) -> dict[str, float]:
        """{'public', 'private'}: exact-match share over each part of the ids."""
        labels = DATA / "test_labels.csv"
        private = {r["id"] for r in read_rows(labels)} - PUBLIC
        return {"public": exact_share(submission, labels, PUBLIC)[0],
                "private": exact_share(submission, labels, private)[0]}


class ToyServe(PackDefaults):
    """The toy-serve competition as generic code sees it."""

    slug = SLUG
    title = "Toy Serve"
    submission = SubmissionSpec(COLUMNS, "submission.parquet", mechanism="inference_server", options=OPTIONS)
    kernel = KernelSpec(notebook=HERE / "serve.ipynb", params=ServeParams, hidden_rows=10)

    def recipes(self) -> Mapping[str, Recipe]:
        """length and zero."""
        return RECIPES

    def check_data(self, folder: Path) -> int:
        """test.csv with id and question."""
        test = Path(folder) / "test.csv"
        if not test.is_file():
            raise InputError(f"{folder}: no test.csv")
        return len(read_rows(test, required=("id", "question")))

    def mini_competition(self) -> Path:
        """The ten rows and their answers."""
        return DATA

    def score(self, submission: Path, labels: Path, **options: Any) -> dict[str, Any]:
        """Exact-match share; both ends of the interval are the mean on ten rows."""
        mean, n = exact_share(Path(submission), Path(labels))
        return {"mean": mean, "ci_low": mean, "ci_high": mean, "n": n}

    def emulator(self) -> EmulatedServe:
        """The sandbox's view."""
        return EmulatedServe()

    def config_defaults(self) -> Mapping[str, Mapping[str, Any]]:
        """Its own kernel and recipe."""
        return {"kaggle": {"kernel_slug": "toy-serve-kernel", "kernel_title": "toy serve kernel"},
                "infer": {"template": "length"}}


PACK = ToyServe()
