"""`kit run-local`: rehearse the inference notebook locally with papermill."""

from __future__ import annotations

from pathlib import Path

import click

from kit.commands._common import config_from, emit, json_option
from kit.experiments import DEFAULT_OUT_HELP


@click.command("run-local")
@click.option("--template", default=None, help="Template name (default: kit.toml [infer] template).")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Competition-format data folder (test.csv; test_labels.csv scores). Default: the mini-competition.")
@click.option("--model", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Base model folder (default: kit.toml, else the embedded instruct model).")
@click.option("--adapter", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="LoRA adapter folder (default: kit.toml [infer] adapter_path).")
@click.option("--rewriter", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Rewriter model for re-scoring templates (default: the embedded instruct model).")
@click.option("--wheels", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Offline wheels folder mounted as a dataset (default: the sandbox's kit-only bundle).")
@click.option("--layout", type=click.Choice(["2025", "2024"]), default=None,
              help="Where inputs are mounted: the 2025-26 layout or the 2024 one (default: [kaggle] "
                   "sandbox_input_layout).")
@click.option("--budget", type=click.IntRange(min=1), default=None, help="Time budget in seconds.")
@click.option("--margin", type=click.IntRange(min=0), default=None, help="Margin kept free of generation (s).")
@click.option("--rows", type=click.IntRange(min=0), default=0, help="Only the first N test rows (0: all).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Rows per generation batch.")
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=None, help="Tokens per candidate.")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Generation processes (data parallel; 0: one per visible GPU).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (plays /kaggle/working).", show_default=DEFAULT_OUT_HELP)
@json_option
@click.pass_context
def command(ctx: click.Context, template, data, model, adapter, rewriter, wheels, layout, budget, margin, rows,
            batch_size, max_new_tokens, workers, out, as_json) -> None:
    """Execute the competition pack's kernel notebook as an isolated Kaggle-like kernel; print outputs, speed,
    projection, score."""
    from kit.runlocal import describe, run_local

    result = run_local(config_from(ctx), template=template, data=data, model=model, adapter=adapter,
                       wheels=wheels, budget=budget, margin=margin, rows=rows, batch_size=batch_size,
                       max_new_tokens=max_new_tokens, workers=workers, out=out, layout=layout,
                       rewriter=rewriter, progress=not as_json)
    emit(result.to_dict(), as_json, describe(result))
