"""`kit submit`: the pinned chain from a built kernel to a recorded score."""

from __future__ import annotations

from pathlib import Path

import click

from kit.artefacts import SubmissionStatus
from kit.commands._common import config_from, emit, json_option


def _summary(row: dict, resume: str) -> str:
    ver = f" v{row['kernel_version']}" if row.get("kernel_version") is not None else ""
    lines = [f"attempt #{row['id']}: {row['status']} (kernel {row.get('kernel_ref') or '-'}{ver})"]
    if row.get("submission_ref") is not None:
        lines.append(f"  submission {row['submission_ref']}")
    if row.get("public_score") is not None:
        lines.append(f"  public score {row['public_score']:.4f}"
                     + (f", private {row['private_score']:.4f}" if row.get("private_score") is not None else ""))
    if row["status"] == SubmissionStatus.RUNNING:
        lines.append(f"  not waiting: `{resume}` continues")
    return "\n".join(lines)


@click.command("submit")
@click.argument("kernel_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("-m", "--message", default="", help="Submission description (default: template and adapter version).")
@click.option("--no-wait", is_flag=True, help="Push and return; `kit submit --resume` continues later.")
@click.option("--allow-dirty", is_flag=True, help="Submit even with uncommitted changes in the git tree.")
@click.option("--resume", is_flag=True, help="Continue the newest interrupted attempt.")
@click.option("--sandbox", is_flag=True, default=None, help="Use the local Kaggle emulator instead of kaggle.com.")
@click.option("--timeout", type=float, default=None, help="Overall seconds for each wait (kernel run, scoring).")
@click.option("--force", is_flag=True, help="Submit even when this kernel content already has a scored or pending "
              "submission.")
@json_option
@click.pass_context
def command(ctx: click.Context, kernel_dir: Path | None, message: str, no_wait: bool, allow_dirty: bool,
            resume: bool, sandbox: bool | None, timeout: float | None, force: bool, as_json: bool) -> None:
    """Push KERNEL_DIR (default ./kernel), wait, validate submission.csv, submit that version, poll the score."""
    from kit.chain.history import to_object
    from kit.chain.submit import resume_command, submit

    config = config_from(ctx)
    row = submit(config, kernel_dir, message=message, wait=not no_wait, allow_dirty=allow_dirty,
                 resume=resume, sandbox=sandbox, timeout=timeout, force=force)
    emit(to_object(row), as_json, _summary(row, resume_command(row, config)))
