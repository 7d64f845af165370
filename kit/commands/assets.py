"""`kit assets`: build and show the embedded offline defaults."""

from __future__ import annotations

import click

from kit.commands._common import config_from, emit, json_option


@click.command("assets")
@json_option
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> None:
    """Convert/build the embedded models if needed and print where every embedded default lives, with the
    competition pack's mini-competition."""
    from kit.assets import describe
    from kit.pack import get_pack

    cfg = config_from(ctx)
    info = describe()
    info["mini_competition"] = str(get_pack(cfg.competition.slug).mini_competition())
    emit(info, as_json)
