"""`kit templates`: list the prompt templates."""

from __future__ import annotations

import click

from kit.commands._common import config_from, emit, json_option


@click.command("templates")
@json_option
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> None:
    """List the prompt templates (name and one line each)."""
    from kit.packs.prompt_recovery.templates import list_templates

    config_from(ctx)  # a broken kit.toml is reported here like everywhere else
    items = [{"name": t.name, "summary": t.summary, "primes": list(t.primes), "examples": len(t.examples)}
             for t in list_templates()]
    width = max(len(t["name"]) for t in items)
    emit(items, as_json, "\n".join(f"{t['name']:<{width}}  {t['summary']}" for t in items))
