"""`kit make-data`: rewrite original texts with rewrite prompts into Kaggle-format training rows."""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from kit.commands._common import emit, json_option


def _options(func: Any) -> Any:
    """One option per MakeDataConfig field, help text from the field."""
    from kit.packs.prompt_recovery.make_data import MakeDataConfig

    for f in reversed(dataclasses.fields(MakeDataConfig)):
        flag = "--" + f.name.replace("_", "-")
        func = click.option(flag, f.name, type=type(f.default), default=f.default, show_default=True,
                            help=f.metadata.get("help", ""))(func)
    return func


@click.command("make-data")
@_options
@json_option
def command(as_json: bool, **knobs: Any) -> None:
    """Rewrite each original text with a rewrite prompt (seeded pairing, or --pairs) using a rewriter model.

    Writes id, original_text, rewrite_prompt, rewritten_text to --out (plus a JSON sidecar with the settings
    and the rewriter's prompt format). Rerunning the same command appends only the rows still missing.
    """
    from kit.packs.prompt_recovery.make_data import MakeDataConfig, make_data

    result = make_data(MakeDataConfig(**knobs), progress=not as_json)
    text = (f"{result.out}: {result.made} row(s) made, {result.already_done} already there, "
            f"{result.empty} empty rewrite(s) skipped; {result.pairs} pair(s) in all"
            + (f", {result.rows_per_second:.2f} rows/s" if result.rows_per_second else "")
            + f"\nsidecar: {result.sidecar}")
    emit(result.to_dict(), as_json, text)
