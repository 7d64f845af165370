"""`kit mean-prompt`: optimise a mean prompt for your prompts and embedder."""

from __future__ import annotations

from pathlib import Path

import click

from kit.commands._common import config_from, emit, json_option


@click.command("mean-prompt")
@click.option("--prompts", "prompts_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="CSV with a rewrite_prompt column, or a text file with one prompt per line.")
@click.option("--embedder", "embedder_path", default=None,
              help="Sentence-transformers folder. Default: [score] embedder, else the bundled MiniLM proxy "
              "([score] host_tokenizer and precision apply).")
@click.option("--vocab", default="auto", show_default=True,
              help="'auto' (prompt words + common tokenizer words) or a file with one candidate word per line.")
@click.option("--max-tokens", type=int, default=None, help="Most words in the result ([mean_prompt] max_tokens).")
@click.option("--beam", type=int, default=None, help="Beam width ([mean_prompt] beam).")
@click.option("--budget", "budget_seconds", type=float, default=None,
              help="Search time budget in seconds ([mean_prompt] budget_seconds).")
@click.option("--init", "init", default=None,
              help="Starting string. Default: [mean_prompt] text, else the 0.63 reference sentence.")
@click.option("--seed", type=int, default=None, help="Seed of the split and the search ([mean_prompt] seed).")
@click.option("--max-steps", type=int, default=None,
              help="Stop after N search steps: the same seed then gives the same string on any machine.")
@click.option("--holdout", "holdout_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Held-out prompts file (default: hold out [mean_prompt] holdout_fraction of --prompts).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the string to this file (and the report with its config to FILE.json).")
@click.option("--save", is_flag=True, help="Store the result as [mean_prompt] text in kit.toml.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@json_option
@click.pass_context
def command(ctx: click.Context, prompts_path: Path, embedder_path: str | None, vocab: str, max_tokens: int | None,
            beam: int | None, budget_seconds: float | None, init: str | None, seed: int | None, max_steps: int | None,
            holdout_path: Path | None, out_path: Path | None, save: bool, no_progress: bool, as_json: bool) -> None:
    """Search for the string with the best mean sharpened cosine against the prompts in --prompts.

    Prints train and held-out scores of the result, the initial string and the 0.63 reference sentence.
    """
    from kit.config import override, set_value
    from kit.errors import ConfigError
    from kit.files import write_json
    from kit.packs.prompt_recovery.mean_prompt import REFERENCE_PROMPT, search_mean_prompt

    cfg = config_from(ctx)
    if save and cfg.path is None:
        raise ConfigError("--save needs a kit.toml to write into, and none was found", hint="run `kit init`")
    mp = override(cfg.section("mean_prompt"), max_tokens=max_tokens, beam=beam, budget_seconds=budget_seconds,
                  seed=seed)
    scoring = cfg.section("score")
    report = search_mean_prompt(
        prompts_path, embedder_path=embedder_path or scoring.embedder or None,
        host_tokenizer=scoring.host_tokenizer, precision=scoring.precision, vocab=vocab,
        vocab_limit=mp.vocab_limit, holdout_path=holdout_path, holdout_fraction=mp.holdout_fraction,
        init=init if init is not None else (mp.text or REFERENCE_PROMPT), max_tokens=mp.max_tokens, beam=mp.beam,
        candidates=mp.candidates, budget_s=mp.budget_seconds, seed=mp.seed, max_steps=max_steps,
        progress=not (no_progress or as_json),
    )
    data = report.to_dict()
    if out_path is not None:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(report.result.text + "\n", encoding="utf-8")
        write_json(out_path.with_name(out_path.name + ".json"), {**data, "config": {"mean_prompt": mp.__dict__}})
        data["out"] = str(out_path)
    if save:
        set_value(cfg.path, "mean_prompt", "text", report.result.text)
        data["saved"] = str(cfg.path)
    emit(data, as_json, text=None if as_json else _text(data))


def _text(data: dict) -> str:
    res = data["result"]
    lines = [f"embedder: {data['embedder']}",
             f"prompts: {data['train_size']} train, {data['holdout_size']} held out; vocabulary {data['vocab_size']}",
             f"search: {res['steps']} steps, {res['evaluations']} strings scored in {res['seconds']:.1f}s "
             f"(stopped: {res['stopped']})", "", f"{'string':<22} {'train':>8} {'held-out':>9}"]
    lines += [f"{r['name']:<22} {r['train']:>8.4f} {r['holdout']:>9.4f}" for r in data["rows"]]
    for key in ("out", "saved"):
        if key in data:
            lines.append(f"{'wrote' if key == 'out' else 'saved to'}: {data[key]}")
    lines += ["", f"mean prompt: {data['text']}"]
    return "\n".join(lines)
