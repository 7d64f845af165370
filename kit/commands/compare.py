"""`kit compare`: paired differences between local runs on the same rows (no heavy imports here)."""

from __future__ import annotations

from pathlib import Path

import click

from kit.commands._common import emit, json_option


@click.command("compare")
@click.argument("runs", nargs=-1, required=True, metavar="RUN_A RUN_B [RUN...]")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw each run's mean difference with its 95% CI and its sorted per-row differences "
                   "into this PNG.")
@json_option
def command(runs: tuple[str, ...], plot_path: Path | None, as_json: bool) -> None:
    """Pair kit run-local runs on the same rows with the first (the baseline): mean per-row difference, 95% CI,
    wins / losses / ties, rows/s. RUN is a ledger id (`kit history --local`: 12 or #12) or a run folder."""
    from kit.chain.compare import compare, describe

    if len(runs) < 2:
        raise click.UsageError("name at least two runs: the first is the baseline")
    result = compare(runs, plot_path=plot_path)
    emit(result.to_dict(), as_json, describe(result))
