"""`kit demo`: the whole chain on embedded defaults against the local sandbox."""

from __future__ import annotations

from pathlib import Path

import click

from kit.commands._common import config_from, emit, json_option


@click.command("demo")
@click.option("--dir", "workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("kit-demo"),
              show_default=True, help="Folder for the demo's adapter, wheels bundle and kernel.")
@click.option("--steps", type=int, default=2, show_default=True, help="Training steps for the adapter.")
@click.option("--template", default=None,
              help="Template the demo kernel is built with (default: kit.toml [infer] template).")
@click.option("--layout", type=click.Choice(["2025", "2024"]), default=None,
              help="Where the sandbox kernel finds its inputs (default: [kaggle] sandbox_input_layout, 2025).")
@click.option("--keep-sandbox", is_flag=True, help="Leave the sandbox emulator running when the demo started it.")
@click.option("--competition", default=None, metavar="SLUG",
              help="Competition pack to demo (default: kit.toml's [competition] slug, else the one pack installed; "
                   "`kit packs` lists them, `make demo` names the first competition's). Another slug than the "
                   "workspace's runs on that pack's defaults.")
@json_option
@click.pass_context
def command(ctx: click.Context, workdir: Path, steps: int, template: str | None, layout: str | None, keep_sandbox: bool,
            competition: str | None, as_json: bool) -> None:
    """Train an adapter on the embedded model (packs that train one, recipes that load one), rehearse locally
    (packs that name demo rows), push the adapter and the wheels, build, submit, wait, show history."""
    import dataclasses
    import time

    from kit.chain.demo import run_demo
    from kit.chain.history import format_table, history, to_object
    from kit.pack import get_pack

    started = time.monotonic()
    cfg = config_from(ctx, competition=competition or "")  # the slug too when no kit.toml names one
    if competition and competition != cfg.competition.slug:
        from kit.config import config_from_dict

        # the workspace's sections belong to its own pack: the other one starts from its defaults
        cfg = config_from_dict({"competition": {"slug": competition}})
    if layout:
        cfg = dataclasses.replace(cfg, kaggle=dataclasses.replace(cfg.kaggle, sandbox_input_layout=layout))
    result = run_demo(cfg, workdir=workdir, steps=steps, template=template, keep_sandbox=keep_sandbox)
    row, hidden = to_object(result["row"]), result["hidden"]
    table = format_table(history(row["competition"], sandbox=True))
    runs = result.get("private_runs", 1)
    about = ["sandbox", f"private from {runs} runs of the private part" if runs > 1 else None,
             row.get("base_model_source"), hidden.headline() if hidden else None]
    text = "\n".join([f"\nkit history --sandbox\n{table}\n", *(hidden.lines() if hidden else []),
                      f"\ndemo finished in {time.monotonic() - started:.0f} s: public {row['public_score']}, private "
                      f"{row['private_score']} ({'; '.join(a for a in about if a)})",
                      *([advice] if (advice := getattr(get_pack(row["competition"]), "advice", "")) else [])])
    emit({**result, "row": row, "hidden": hidden.to_dict() if hidden else None}, as_json, text)
