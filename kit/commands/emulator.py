"""`kit emulator serve`: run the local Kaggle API emulator in the foreground (the sandbox)."""

from __future__ import annotations

from pathlib import Path

import click

from kit.commands._common import emit, json_option


@click.group("emulator")
def command() -> None:
    """The local server that speaks Kaggle's API (what `--sandbox` talks to)."""


@command.command("serve")
@click.option("--port", type=int, default=0, help="Port on 127.0.0.1 (default: a free one, printed at start).")
@click.option("--state", "state_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="State folder, kept across restarts (default: $KIT_HOME/sandbox/state).")
@click.option("--ready-delay", type=float, default=None, help="Seconds a dataset version takes to become READY.")
@click.option("--pack", default=None, help="Serve only this competition: a pack's slug, or 'module:attr' of an "
              "emulator pack object (default: every installed pack, by competition slug).")
def serve(port: int, state_dir: Path | None, ready_delay: float | None, pack: str | None) -> None:
    """Serve until Ctrl-C. Point the official client at it with:
    KAGGLE_API_ENVIRONMENT=LOCALHOST HTTP_PROXY=http://127.0.0.1:PORT (and NO_PROXY unset)."""
    from kit.kaggle.emulator import serve as run_server
    from kit.kaggle.sandbox import sandbox_dir

    state_dir = state_dir or sandbox_dir() / "state"
    state_dir.mkdir(parents=True, exist_ok=True)
    overrides = {k: v for k, v in {"ready_delay": ready_delay, "pack": pack}.items() if v is not None}
    run_server(state_dir, port, state_dir / "emulator.port", **overrides)


@command.command("status")
@json_option
def status(as_json: bool) -> None:
    """Show whether the sandbox emulator is running, and where."""
    from kit.kaggle.sandbox import recorded, sandbox_dir

    state = sandbox_dir() / "state"
    found = recorded(state)
    data = {"running": found is not None, "port": found.port if found else None, "state": str(state)}
    emit(data, as_json)


@command.command("stop")
def stop() -> None:
    """Stop the background sandbox emulator, and every kernel it is running."""
    from kit.kaggle.sandbox import shutdown_emulator

    stopped = shutdown_emulator()
    if stopped is None:
        click.echo("not running")
        return
    click.echo("stopped")
    for run in stopped:
        kept = ", ".join(run["outputs"]) or "nothing"
        click.echo(f"stopped a running kernel: its run folder {run['run']} keeps {kept} in working/")
