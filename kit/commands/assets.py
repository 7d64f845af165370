"""`kit assets`: build and show the embedded offline defaults."""

from __future__ import annotations

import click

from kit.commands._common import config_from, emit, json_option


@click.command("assets")
@json_option
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> None:
    """Convert/build the embedded models if needed and print where every embedded default lives."""
    from kit.assets import describe

    cfg = config_from(ctx)
    info = describe()
    if cfg.score.embedder:
        info["embedder"] = cfg.score.embedder
    emit(info, as_json)
