"""The `kit` command line: parse options, call one library function, print.

Generic commands live one per module in `kit/commands/`; the competition pack the workspace's kit.toml picks
(`[competition] slug`) adds its own through `Pack.commands()`. Command modules are imported only when invoked, so
`kit --help`, `kit init` and `kit history` stay fast and never import torch.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import threading

import click

from kit import __version__
from kit.errors import KitError

# name -> (module, one-line help). The help lives here so `kit --help` imports no command module.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("kit.commands.init", "Write a commented kit.toml into the current folder."),
    "assets": ("kit.commands.assets", "Build (if needed) and show the embedded offline defaults."),
    "run-local": ("kit.commands.run_local", "Rehearse the inference notebook as an isolated Kaggle-like kernel."),
    "push-adapter": ("kit.commands.push_adapter", "Push an adapter folder as a Kaggle dataset version."),
    "wheels": ("kit.commands.wheels", "Build (and push) the offline wheel bundle for the kernel."),
    "build-submission": ("kit.commands.build_submission", "Render the inference kernel from a template."),
    "submit": ("kit.commands.submit", "Push the kernel, wait, submit that version and poll the score."),
    "history": ("kit.commands.history", "Show the submission ledger."),
    "compare": ("kit.commands.compare", "Paired differences between local runs on the same rows."),
    "emulator": ("kit.commands.emulator", "Run the local Kaggle API emulator (sandbox)."),
    "demo": ("kit.commands.demo", "Run the whole chain on embedded defaults against the sandbox."),
    "packs": ("kit.commands.packs", "List the installed competition packs and their commands."),
}


_CONFIG_META = "kit.config_path"
_PACK_PROBLEM = "kit.pack_problem"  # why the pack's commands are missing from the listing


def pack_commands(config_path: str | None) -> dict[str, tuple[str, str]]:
    """The commands the workspace's competition pack adds (a generic command of the same name wins)."""
    from kit.config import workspace_pack

    added = workspace_pack(config_path).commands()
    return {name: entry for name, entry in added.items() if name not in COMMANDS}


def _commands(ctx: click.Context, strict: bool) -> dict[str, tuple[str, str]]:
    """Generic commands, then the pack's; without `strict` a broken kit.toml leaves just the generic ones (so
    `kit --help` still answers), with it the config error propagates as one line."""
    try:
        # --help is eager: it answers before the group's --config is parsed, so parse_args keeps the path in meta
        chosen = ctx.params.get("config_path") or ctx.meta.get(_CONFIG_META) or os.environ.get("KIT_CONFIG")
        added = pack_commands(chosen)
    except KitError as exc:
        if strict:
            raise
        ctx.meta[_PACK_PROBLEM] = str(exc)
        added = {}
    return {**COMMANDS, **added}


def hoist_config(args: list[str]) -> list[str]:
    """Move `--config PATH` / `--config=PATH` written after the subcommand to the front, where the group reads
    it (no subcommand has its own --config). Arguments after a `--` are left alone."""
    args, front, rest = list(args), [], []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg == "--config" and i + 1 < len(args):
            front += args[i:i + 2]
            i += 2
            continue
        (front if arg.startswith("--config=") else rest).append(arg)
        i += 1
    return front + rest


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = hoist_config(args)
        if args[:1] == ["--config"] and len(args) > 1:
            ctx.meta[_CONFIG_META] = args[1]
        elif args and args[0].startswith("--config="):
            ctx.meta[_CONFIG_META] = args[0].split("=", 1)[1]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_commands(ctx, strict=False))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        known = COMMANDS if name in COMMANDS else _commands(ctx, strict=True)
        if name not in known:
            return None
        return importlib.import_module(known[name][0]).command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        known = _commands(ctx, strict=False)
        rows = [(name, known[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
        if ctx.meta.get(_PACK_PROBLEM):  # one line, on stderr: the listing above stays the generic one
            click.echo(f"note: the competition pack's commands are not listed: {ctx.meta[_PACK_PROBLEM]}", err=True)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kit")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="KIT_CONFIG",
    help="kit.toml to read (default: ./kit.toml when present).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """kit: train, rehearse, push, submit and record Kaggle LLM code-competition runs.

    Local commands run offline on embedded defaults. Commands that talk to Kaggle take `--sandbox` to talk to a
    local server that speaks Kaggle's API instead of kaggle.com. `kit wheels` fetches the kernel's wheels from PyPI
    (not with --kit-only).
    """
    ctx.obj = {"config_path": config_path}


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that a command unwinds as on Ctrl-C: a kernel it runs is stopped with
    every process it started, an attempt is recorded, a demo stops the emulator it started."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated()


def _by_sigterm(exc: BaseException | None) -> bool:
    """Whether `exc` comes from SIGTERM (click wraps an interrupt in Abort; a command may re-raise it as its own)."""
    while exc is not None:
        if isinstance(exc, _Terminated):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; KitError becomes one line on stderr, SIGTERM unwinds like Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():  # signal handlers belong to the main thread
        return _run(argv)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _run(argv)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _run(argv: list[str] | None) -> int:
    try:
        cli.main(args=argv, prog_name="kit", standalone_mode=False)
    except KitError as exc:
        if os.environ.get("KIT_DEBUG"):
            raise
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort as exc:
        if _by_sigterm(exc):
            click.echo("terminated", err=True)
            return 143
        click.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt as exc:
        if _by_sigterm(exc):
            click.echo("terminated", err=True)
            return 143
        click.echo("interrupted", err=True)
        return 130
    return 0


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
