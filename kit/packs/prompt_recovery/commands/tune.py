"""`kit tune`: pick the re-scoring templates' candidate mix, keep and assembly on training rows."""

from __future__ import annotations

import time
from pathlib import Path

import click

from kit.commands._common import config_from, emit, json_option


@click.command("tune")
@click.option("--data", "data", type=click.Path(path_type=Path), default=None,
              help="Training CSV (id, original_text, rewrite_prompt, rewritten_text) or a folder holding train.csv "
              "(only that file is read). Default: [train] data, else the mini-competition's train.csv.")
@click.option("--rows", type=int, default=32, show_default=True,
              help="Training rows tuned on (a seeded split; 0: all).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split.")
@click.option("--max-samples", type=int, default=4, show_default=True,
              help="Most sampled candidates per row tried (0, half and all of them are compared).")
@click.option("--template", default="rescore-tuned", show_default=True, help="The re-scoring template tuned.")
@click.option("--model", "model", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Generation model folder. Default: [infer] base_model_path, else the embedded instruct model.")
@click.option("--rewriter", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Model that ranks the candidates. Default: the generation model (without adapter).")
@click.option("--embedder", default=None, help="Embedder folder for the scores (default: [score] embedder).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for kit_tuning.json (default: tune/<time>).")
@click.option("--save/--no-save", default=True, show_default=True,
              help="Write the pick into kit.toml as [infer] tuning (when there is a kit.toml).")
@json_option
@click.pass_context
def command(ctx: click.Context, data: Path | None, rows: int, seed: int, max_samples: int, template: str,
            model: Path | None, rewriter: Path | None, embedder: str | None, out: Path | None, save: bool,
            as_json: bool) -> None:
    """Generate and rank candidates for a split of the training rows once, score every candidate mix, keep and
    assembly against the rows' own prompts, and keep the best (kit_tuning.json records every option's score).

    The re-scoring templates use the pick through [infer] tuning; `rescore-tuned` also takes its assembly (one
    candidate, or the kept ones concatenated with the mean prompt). Test labels are never read.
    """
    from kit.assets import default_model_path
    from kit.config import set_value
    from kit.packs.prompt_recovery.metric import load_embedder
    from kit.packs.prompt_recovery.samples import mini_competition_dir
    from kit.packs.prompt_recovery.tuning import describe, tune

    cfg = config_from(ctx)
    train, score = cfg.section("train"), cfg.section("score")
    data = data or (Path(train.data) if train.data else mini_competition_dir() / "train.csv")
    model = model or (Path(cfg.infer.base_model_path) if cfg.infer.base_model_path else default_model_path())
    adapter = Path(cfg.infer.adapter_path) if cfg.infer.adapter_path else None
    embed = load_embedder(embedder or score.embedder or None, score.host_tokenizer, score.precision)
    report = tune(data, model=model, rewriter=rewriter, embedder=embed, rows=rows, seed=seed,
                  max_samples=max_samples, template=template, mean_prompt=cfg.section("mean_prompt").text or None,
                  batch_size=cfg.infer.batch_size, max_new_tokens=cfg.infer.max_new_tokens,
                  max_field_tokens=cfg.infer.max_field_tokens or None, progress=not as_json, adapter=adapter)
    folder = out or Path("tune") / time.strftime("%Y%m%d-%H%M%S")
    path = report.save(folder)
    result = {"report": str(path), "tuning": report.tuning.to_dict(), "picked": report.best_option()}
    text = describe(report) + f"\nreport: {path}"
    if save and cfg.path is not None:
        set_value(cfg.path, "infer", "tuning", report.tuning.to_text())
        result["saved"] = str(cfg.path)
        text += f"\nsaved to {cfg.path} as [infer] tuning: `kit run-local --template {template}` uses it"
    emit(result, as_json, text)
