"""Small helpers shared by the command modules (no heavy imports here)."""

from __future__ import annotations

import json
from typing import Any

import click

from kit.config import KitConfig, apply_settings, load_config


def config_from(ctx: click.Context, settings: tuple[str, ...] = (), competition: str = "") -> KitConfig:
    """Load the workspace config named by the group's --config (or ./kit.toml, or defaults), with the command's
    `--set section.key=value` pairs applied; `competition` is the slug when the workspace names none."""
    obj = ctx.find_root().obj or {}
    return apply_settings(load_config(obj.get("config_path"), competition=competition), settings)


def set_option(func: Any) -> Any:
    """Add a repeatable `--set section.key=value` (stored as `settings`): any kit.toml key of any section, the
    competition pack's included, checked as kit.toml checks it."""
    return click.option("--set", "settings", multiple=True, metavar="SECTION.KEY=VALUE",
                        help="Override one kit.toml key for this run, generic or the competition pack's "
                             "(repeatable): the value is a TOML literal (4, true, [\"a\"]), or plain text for "
                             "a string, e.g. --set infer.batch_size=4.")(func)


def json_option(func: Any) -> Any:
    """Add a `--json` flag (stored as `as_json`)."""
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(func)


def emit(data: Any, as_json: bool, text: str | None = None) -> None:
    """Print `data` as sorted JSON, or `text` (default: key: value lines) for people."""
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
    elif text is not None:
        click.echo(text)
    elif isinstance(data, dict):
        for key, value in data.items():
            click.echo(f"{key}: {value}")
    else:
        click.echo(str(data))
