"""`kit score`: AIMO accuracy of a submission (parquet or CSV, id,answer), or penalized accuracy of two runs."""

from __future__ import annotations

from pathlib import Path

import click

from kit.commands._common import emit, json_option


@click.command("score")
@click.argument("submission", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("answers", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rerun", "second", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The second private run's submission: score both as penalized accuracy (1, 0.5 or 0 a problem).")
@json_option
def command(submission: Path, answers: Path, second: Path | None, as_json: bool) -> None:
    """Score SUBMISSION against ANSWERS (id,answer; extra columns ignored): every problem must be answered."""
    from kit.packs.aimo.metric import score_file, score_reruns

    if second is not None:
        pen = score_reruns(submission, second, answers)
        emit({"score": pen.score, "both_right": pen.both_right, "n": len(pen.points)}, as_json,
             f"penalized accuracy: {pen.score:.4f}\nboth runs right: {pen.both_right} of {len(pen.points)}")
        return
    acc = score_file(submission, answers)
    wrong = ", ".join(acc.wrong[:10]) + (" ..." if len(acc.wrong) > 10 else "")
    emit({"score": acc.score, "correct": acc.correct, "n": acc.total, "wrong": list(acc.wrong)}, as_json,
         f"accuracy: {acc.score:.4f} ({acc.correct} of {acc.total})" + (f"\nwrong: {wrong}" if acc.wrong else ""))
