"""`kit packs`: the installed competition packs, the slugs `[competition] slug` may name (no heavy imports)."""

from __future__ import annotations

import dataclasses

import click

from kit.commands._common import emit, json_option


@click.command("packs")
@json_option
def command(as_json: bool) -> None:
    """List the installed competition packs: slug, title, how a kernel's predictions are scored (mechanism), the
    commands each adds and its recipes (templates). A pack that fails to load is listed with its error."""
    from kit.pack import installed_packs

    infos = installed_packs()
    lines = []
    for info in infos:
        if info.error:
            lines.append(f"{info.slug}  (does not load: {info.error})")
            continue
        lines += [f"{info.slug}  {info.title}", f"  mechanism: {info.mechanism}",
                  f"  commands:  {', '.join(info.commands) or '-'}", f"  recipes:   {', '.join(info.recipes) or '-'}"]
    emit([dataclasses.asdict(i) for i in infos], as_json, "\n".join(lines) or "no competition packs installed")
