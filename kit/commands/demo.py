"""`kit demo`: the whole chain on embedded defaults against the local sandbox."""

from __future__ import annotations

from pathlib import Path

import click

from kit.commands._common import config_from, emit, json_option


@click.command("demo")
@click.option("--dir", "workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("kit-demo"),
              show_default=True, help="Folder for the demo's adapter, wheels bundle and kernel.")
@click.option("--steps", type=int, default=2, show_default=True, help="Training steps for the adapter.")
@click.option("--template", default="best", show_default=True, help="Template the demo kernel is built with.")
@json_option
@click.pass_context
def command(ctx: click.Context, workdir: Path, steps: int, template: str, as_json: bool) -> None:
    """Train an adapter on the embedded model, push it and the wheels, build, submit, wait, show history."""
    import time

    from kit.demo import run_demo
    from kit.history import format_table, history, to_object

    started = time.monotonic()
    result = run_demo(config_from(ctx), workdir=workdir, steps=steps, template=template)
    row = to_object(result["row"])
    table = format_table(history(row["competition"], sandbox=True))
    text = (f"\nkit history --sandbox\n{table}\n\ndemo finished in {time.monotonic() - started:.0f} s: "
            f"public {row['public_score']}, private {row['private_score']} (sandbox, {row.get('base_model_source')})")
    emit({**result, "row": row}, as_json, text)
