"""The AIMO3 competition as the sandbox serves it, and the local mini-competition run-local scores against.

The sandbox's competition folder holds what the download holds: three placeholder problems in `test.csv`,
`reference.csv`, `sample_submission.csv` and the kit-written `kaggle_evaluation` package under AIMO3's names
(`kaggle_evaluation.aimo_3_inference_server.AIMO3InferenceServer`). On the scoring re-run the gateway sends the
hidden set: the mini-competition's 50 public and 50 private problems, shuffled, one per call.

Scores: public is accuracy on the 50 public problems. Private on Kaggle is penalized accuracy over two reruns;
the sandbox emulator runs the kernel once per submission, so the private score here is that one run's accuracy
on the 50 private problems (penalized accuracy with both runs equal). `kit score --rerun` scores two files.
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


def hidden_rows() -> list[dict[str, str]]:
    """The re-run's problems with their answers: public then private."""
    return read_rows(HIDDEN / "public.csv") + read_rows(HIDDEN / "private.csv")


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
    """The sandbox's AIMO3: the download's files, the hidden 100 problems on the re-run, public/private scores."""

    slug = SLUG
    submission_file = "submission.parquet"
    mechanism = "inference_server"
    mechanism_options = OPTIONS
    seed_leaderboard = (("Seeded Olympiad Team", 0.2),)

    def mount(self, dest: Path, hidden: bool) -> Path:
        """The competition folder a kernel (and, on a re-run, the gateway) sees; answers never."""
        from kit.mechanisms.inference_server.package import write_package

        dest.mkdir(parents=True, exist_ok=True)
        for name in ("sample_submission.csv", "reference.csv"):
            shutil.copyfile(DATA / name, dest / name)
        if hidden:
            write_rows(dest / "test.csv", ({"id": r["id"], "problem": r["problem"]} for r in hidden_rows()),
                       ["id", "problem"])
        else:
            shutil.copyfile(DATA / "test.csv", dest / "test.csv")
        write_package(dest, GATEWAY)
        return dest

    def score(self, submission: Path) -> dict[str, float]:
        """{'public': accuracy on the public 50, 'private': accuracy on the private 50 of this one run}."""
        from kit.packs.aimo.metric import accuracy, read_answers

        given = read_answers(submission)
        public = {r["id"]: int(r["answer"]) for r in read_rows(HIDDEN / "public.csv")}
        private = {r["id"]: int(r["answer"]) for r in read_rows(HIDDEN / "private.csv")}
        return {"public": accuracy(given, public).score, "private": accuracy(given, private).score}
