"""`kit score`: score a predictions CSV against labels with the competition metric."""

from __future__ import annotations

from pathlib import Path

import click

from kit.commands._common import config_from, emit, json_option


@click.command("score")
@click.argument("predictions", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("labels", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--embedder", "embedder_path", default=None,
              help="sentence-transformers folder (default: [score] embedder, else the bundled MiniLM proxy).")
@click.option("--host-tokenizer/--no-host-tokenizer", default=None,
              help="Emulate the host's tokenizer: '</s>' is literal text, inputs cut at 128 tokens.")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]), default=None,
              help="Embedder precision (default: [score] precision, auto = bf16 on AMX CPUs).")
@click.option("--per-row", "per_row", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write id,score per row to this CSV.")
@json_option
@click.pass_context
def command(ctx: click.Context, predictions: Path, labels: Path, embedder_path: str | None,
            host_tokenizer: bool | None, precision: str | None, per_row: Path | None, as_json: bool) -> None:
    """Score PREDICTIONS (id,rewrite_prompt) against LABELS (id,rewrite_prompt or train format)."""
    from kit.config import override
    from kit.packs.prompt_recovery.metric import describe_suffix, score_files
    from kit.tables import write_rows

    cfg = override(config_from(ctx).section("score"), embedder=embedder_path, host_tokenizer=host_tokenizer,
                   precision=precision)
    report = score_files(predictions, labels, cfg.embedder or None, cfg.host_tokenizer, progress=not as_json,
                         precision=cfg.precision)
    if per_row is not None:
        write_rows(per_row, [{"id": i, "score": f"{s:.6f}"} for i, s in zip(report.ids, report.per_row, strict=True)],
                   ["id", "score"])
    text = (f"score: {report.mean:.4f}\n95% CI: [{report.ci_low:.4f}, {report.ci_high:.4f}]\nn: {report.n}\n"
            f"embedder: {report.embedder}" + (f"\nnote: {describe_suffix(report)}" if report.suffix_removed else ""))
    emit(report.to_dict(), as_json, text)
