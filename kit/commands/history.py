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
@click.option("--sandbox", is_flag=True, default=None,
              help="Sandbox submissions instead of real ones (never both); --sync talks to the sandbox.")
@click.option("--local", "only_local", is_flag=True, help="Only local experiments (kit run-local, kit train).")
@click.option("--submissions", "only_subs", is_flag=True, help="Only submissions.")
@json_option
@click.pass_context
def command(ctx: click.Context, order: str, plot_path: Path | None, sync: bool, sandbox: bool | None,
            only_local: bool, only_subs: bool, as_json: bool) -> None:
    """Every submission attempt (scores, kernel and adapter versions, template, git SHA, errors, the linked
    local run and its score) and every local experiment (score with CI, rows/s, projection, output folder)."""
    from kit.chain.history import format_all, show

    local, subs = (True, True) if only_local == only_subs else (only_local, only_subs)
    objs, notes = show(config_from(ctx), order=order, plot_path=plot_path, sync=sync, sandbox=sandbox,
                       local=local, submissions=subs)
    for note in notes:
        click.echo(note, err=True)
    emit(objs, as_json, format_all(objs, local=local, submissions=subs))
