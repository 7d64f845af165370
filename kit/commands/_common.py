"""Small helpers shared by the command modules (no heavy imports here)."""

from __future__ import annotations

import json
from typing import Any

import click

from kit.config import KitConfig, load_config


def config_from(ctx: click.Context) -> KitConfig:
    """Load the workspace config named by the group's --config (or ./kit.toml, or defaults)."""
    obj = ctx.find_root().obj or {}
    return load_config(obj.get("config_path"))


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
