"""`kit init`: write a commented kit.toml."""

from __future__ import annotations

from pathlib import Path

import click

from kit.config import init_workspace


@click.command("init")
@click.option("--username", default="", help="Your Kaggle username (owner of pushed datasets and kernels).")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="Folder to write kit.toml into.")
@click.option("--force", is_flag=True, help="Overwrite an existing kit.toml.")
@click.option("--competition", default="", metavar="SLUG",
              help="Competition slug: its pack adds its sections (and commands) to the workspace. Default: the one "
                   "pack installed (with several, choose; `kit packs` lists them).")
def command(username: str, directory: Path, force: bool, competition: str) -> None:
    """Write a commented kit.toml (every key with its help) into the current folder."""
    path = init_workspace(directory, username=username, force=force, competition=competition)
    click.echo(f"wrote {path}")
