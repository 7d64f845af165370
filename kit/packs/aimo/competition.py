"""The AIMO3 competition as the sandbox serves it, and the local mini-competition run-local scores against.

The sandbox's competition folder holds what the download holds: three placeholder problems in `test.csv`,
`reference.csv`, `sample_submission.csv` and the kit-written `kaggle_evaluation` package under AIMO3's names
(`kaggle_evaluation.aimo_3_inference_server.AIMO3InferenceServer`). On the scoring re-run the gateway sends the
hidden set: the mini-competition's 50 public and 50 private problems, shuffled, one per call.

Scores: public is accuracy on the 50 public problems. Private is penalized accuracy over two runs, as on Kaggle:
the emulator runs the kernel a second time on the private part alone (`private_reruns`, from the edition's
setting) and a problem scores 1 when both runs answer it, 0.5 when one does. `kit score --rerun` scores two files.

The sandbox's `hidden_rows` setting (a rehearsal knob, `kit.kaggle.emulator.state.DEFAULTS`; a workspace sets it
with `[aimo] sandbox_problems`) serves only the first N problems of each part, and the scores are then over those;
Kaggle always serves all 50 of each.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from kit.mechanisms.inference_server.kaggle_evaluation.core.spec import GatewaySpec
from kit.packs.aimo.settings import SLUG, AimoEdition
from kit.tables import read_rows, write_rows

DATA = Path(__file__).resolve().parent / "data"
HIDDEN = DATA / "hidden"
LABELS_FILE = "test_labels.csv"


def gateway_spec(edition: AimoEdition) -> GatewaySpec:
    """The gateway of `edition` (one problem per call, shuffled, `predict(id_, problem)`, no bare answers)."""
    return GatewaySpec(competition=SLUG, module_prefix=edition.module_prefix, gateway_class=edition.gateway_class,
                       server_class=edition.server_class, row_id_column="id", target_column=None, rows_per_call=1,
                       shuffle=True, deadline_seconds=edition.per_call_seconds,
                       first_call_exempt=edition.first_call_exempt, predict_columns=("id", "problem"))


GATEWAY = gateway_spec(AimoEdition())
OPTIONS = {"gateway_module": f"kaggle_evaluation.{GATEWAY.module_prefix}_gateway", "gateway_spec": GATEWAY}


PARTS = ("public", "private")


def hidden_part(part: str, rows: int = 0) -> list[dict[str, str]]:
    """The hidden `part`'s problems with their answers (`rows` > 0: only its first `rows`)."""
    found = read_rows(HIDDEN / f"{part}.csv")
    return found[:rows] if rows > 0 else found


def hidden_rows(part: str = "all", rows: int = 0) -> list[dict[str, str]]:
    """A re-run's problems with their answers: public then private ("all"), or one part; `rows` of each."""
    if part not in (*PARTS, "all"):
        raise ValueError(f"no hidden part {part!r}: public, private or all")
    return [r for name in PARTS if part in (name, "all") for r in hidden_part(name, rows)]


def mini_competition_dir() -> Path:
    """The local mini-competition: the ten reference problems as test.csv, their answers as test_labels.csv.
    Written once into the kit's assets folder from reference.csv (the one source of those problems)."""
    from kit.assets import assets_dir

    folder = assets_dir() / "aimo-mini"
    rows = read_rows(DATA / "reference.csv")
    if not (folder / LABELS_FILE).is_file():
        folder.mkdir(parents=True, exist_ok=True)
        write_rows(folder / "test.csv", ({"id": r["id"], "problem": r["problem"]} for r in rows), ["id", "problem"])
        write_rows(folder / LABELS_FILE, ({"id": r["id"], "answer": r["answer"]} for r in rows), ["id", "answer"])
    return folder


class EmulatedAimo:
    """The sandbox's AIMO3: the download's files, the hidden 100 problems on the re-run (the private 50 once more
    when the edition reruns them), public/private scores."""

    slug = SLUG
    submission_file = "submission.parquet"
    mechanism = "inference_server"
    mechanism_options = OPTIONS
    seed_leaderboard = (("Seeded Olympiad Team", 0.2),)

    def __init__(self, edition: AimoEdition | None = None) -> None:
        self.private_reruns = (edition or AimoEdition()).private_reruns

    def mount(self, dest: Path, hidden: bool, part: str = "all", rows: int = 0) -> Path:
        """The competition folder a kernel (and, on a re-run, the gateway) sees: the download's placeholder test
        set, or the hidden `part` ("all": public then private; "private": the second private run) with `rows`
        problems of each part (0: all); answers never."""
        from kit.mechanisms.inference_server.package import write_package

        dest.mkdir(parents=True, exist_ok=True)
        for name in ("sample_submission.csv", "reference.csv"):
            shutil.copyfile(DATA / name, dest / name)
        if hidden:
            write_rows(dest / "test.csv", ({"id": r["id"], "problem": r["problem"]} for r in hidden_rows(part, rows)),
                       ["id", "problem"])
        else:
            shutil.copyfile(DATA / "test.csv", dest / "test.csv")
        write_package(dest, GATEWAY)
        return dest

    def score(self, submission: Path, rerun: Path | None = None, rows: int = 0) -> dict[str, float]:
        """{'public': accuracy on the public part, 'private': penalized accuracy of `submission` and the private
        `rerun` on the private part (that one run's accuracy when there is no rerun)}; `rows` of each part."""
        from kit.packs.aimo.metric import accuracy, penalized_accuracy, read_answers

        given = read_answers(submission)
        public, private = ({r["id"]: int(r["answer"]) for r in hidden_part(name, rows)} for name in PARTS)
        if rerun is None:
            return {"public": accuracy(given, public).score, "private": accuracy(given, private).score}
        return {"public": accuracy(given, public).score,
                "private": penalized_accuracy(given, read_answers(rerun), private).score}
