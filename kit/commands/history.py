"""`kit history`: the submission ledger (no heavy imports)."""

from __future__ import annotations

from pathlib import Path

import click

from kit.commands._common import config_from, emit, json_option


@click.command("history")
@click.option("--order", type=click.Choice(["best", "time"]), default="time", show_default=True,
              help="best: highest public score first; time: newest first.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw public vs local score over time into this PNG.")
@click.option("--sync", is_flag=True, help="First pull Kaggle's submission list (scores, submissions made elsewhere).")
@click.option("--sandbox", is_flag=True, default=None, help="Only sandbox rows; --sync talks to the sandbox.")
@json_option
@click.pass_context
def command(ctx: click.Context, order: str, plot_path: Path | None, sync: bool, sandbox: bool | None,
            as_json: bool) -> None:
    """Every submission attempt: scores, kernel and adapter versions, template, git SHA, errors."""
    from kit.history import format_table, show

    objs, notes = show(config_from(ctx), order=order, plot_path=plot_path, sync=sync, sandbox=sandbox)
    for note in notes:
        click.echo(note, err=True)
    emit(objs, as_json, format_table(objs))
