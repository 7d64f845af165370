"""`kit run-local`: rehearse the inference notebook locally with papermill."""

from __future__ import annotations

from pathlib import Path

import click

from kit.chain.experiments import DEFAULT_OUT_HELP
from kit.commands._common import config_from, emit, json_option, set_option


def _named_folders(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Path]:
    """NAME=PATH pairs as {name: folder}."""
    named: dict[str, Path] = {}
    for value in values:
        name, sep, folder = value.partition("=")
        if not (sep and name and folder):
            raise click.BadParameter(f"{value!r} is not NAME=PATH", ctx=ctx, param=param)
        named[name] = Path(folder)
    return named


@click.command("run-local")
@click.option("--template", default=None, help="Template name (default: kit.toml [infer] template).")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Competition-format data folder (its labels file, when there, scores the run). Default: the "
                   "pack's mini-competition.")
@click.option("--model", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Base model folder (default: kit.toml, else the embedded instruct model).")
@click.option("--adapter", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="LoRA adapter folder (default: kit.toml [infer] adapter_path).")
@click.option("--no-record", is_flag=True,
              help="Rehearse an adapter folder without kit_adapter.json (refused by default, as push-adapter refuses "
                   "it: the kernel would not know how the weights were trained).")
@click.option("--source", "sources", multiple=True, callback=_named_folders, metavar="NAME=PATH",
              help="Folder of a model source the recipe mounts besides the base model (repeatable; default: the "
                   "embedded instruct model).")
@click.option("--wheels", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Offline wheels folder mounted as a dataset (default: the sandbox's kit-only bundle).")
@click.option("--layout", type=click.Choice(["2025", "2024"]), default=None,
              help="Where inputs are mounted: the 2025-26 layout or the 2024 one (default: [kaggle] "
                   "sandbox_input_layout).")
@click.option("--budget", type=click.IntRange(min=1), default=None, help="Time budget in seconds.")
@click.option("--margin", type=click.IntRange(min=0), default=None, help="Margin kept free of generation (s).")
@click.option("--rows", type=click.IntRange(min=0), default=0, help="Only the first N test rows (0: all).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Rows per generation batch.")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Generation processes (data parallel; 0: one per visible GPU).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (plays /kaggle/working).", show_default=DEFAULT_OUT_HELP)
@set_option
@json_option
@click.pass_context
def command(ctx: click.Context, template: str | None, data: Path | None, model: Path | None, adapter: Path | None,
            no_record: bool, sources: dict[str, Path], wheels: Path | None, layout: str | None, budget: int | None,
            margin: int | None, rows: int, batch_size: int | None, workers: int | None, out: Path | None,
            settings: tuple[str, ...], as_json: bool) -> None:
    """Execute the competition pack's kernel notebook as an isolated Kaggle-like kernel; print outputs, speed,
    projection, score. The pack's own knobs (say its [infer] max_new_tokens, or its scorer) take --set."""
    from kit.chain.run_local import RunInterrupted, describe, run_local

    try:
        result = run_local(config_from(ctx, settings), template=template, data=data, model=model, adapter=adapter,
                           wheels=wheels, budget=budget, margin=margin, rows=rows, batch_size=batch_size,
                           workers=workers, out=out, layout=layout, sources=sources, progress=not as_json,
                           require_record=not no_record)
    except RunInterrupted as stop:
        click.echo(stop.message, err=True)  # what the run folder keeps; the exit stays an interrupt's
        raise
    emit(result.to_dict(), as_json, describe(result))
