"""`kit templates`: list the prompt templates."""

from __future__ import annotations

import click

from kit.commands._common import emit, json_option


@click.command("templates")
@json_option
def command(as_json: bool) -> None:
    """List the prompt templates (name and one line each)."""
    from kit.recovery.templates import list_templates

    items = [{"name": t.name, "summary": t.summary, "primes": list(t.primes), "examples": len(t.examples)}
             for t in list_templates()]
    width = max(len(t["name"]) for t in items)
    emit(items, as_json, "\n".join(f"{t['name']:<{width}}  {t['summary']}" for t in items))
