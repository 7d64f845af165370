"""`kit push-adapter PATH`: push a LoRA adapter folder as a (private) Kaggle dataset version."""

from __future__ import annotations

from pathlib import Path

import click

from kit.commands._common import config_from, emit, json_option


@click.command("push-adapter")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--slug", default=None, help="Dataset slug (default: [kaggle] adapter_dataset).")
@click.option("--public", is_flag=True, help="Make the dataset public (default: private).")
@click.option("--license", "license_name", default=None, help="Dataset license (default: [kaggle] dataset_license).")
@click.option("-m", "--message", default="", help="Version notes.")
@click.option("--no-wait", is_flag=True, help="Return once uploaded, without waiting for the version to be READY.")
@click.option("--timeout", type=float, default=None,
              help="Seconds to wait for READY (default: [kaggle] dataset_timeout_seconds).")
@click.option("--sandbox", is_flag=True, default=None, help="Push to the local emulator instead of kaggle.com.")
@click.option("--include", "include", multiple=True, metavar="GLOB",
              help="Also upload files matching GLOB (relative path; repeatable). They are scanned like the rest.")
@click.option("--no-record", is_flag=True,
              help="Push a folder without kit_adapter.json (refused by default: the kernel would not know how "
                   "the weights were trained).")
@json_option
@click.pass_context
def command(ctx: click.Context, path: Path, slug: str | None, public: bool, license_name: str | None, message: str,
            no_wait: bool, timeout: float | None, sandbox: bool | None, include: tuple[str, ...],
            no_record: bool, as_json: bool) -> None:
    """Validate the adapter (adapter_config.json, weights and the kit_adapter.json `kit train` writes; --no-record
    pushes one without it) and upload only its allowlist (adapter weights and config, tokenizer files,
    kit_adapter.json, README; more with --include), after refusing links leaving the folder and any file holding a
    credential; create the dataset or a new version, wait until READY and record it in the ledger. An unchanged
    adapter is not uploaded again."""
    from kit.chain.adapter import push_adapter

    result = push_adapter(config_from(ctx), path, slug=slug, public=public, wait=not no_wait,
                          sandbox=True if sandbox else None, license=license_name, notes=message, timeout=timeout,
                          include=include, require_record=not no_record)
    if result["left_out"] and not as_json:
        click.echo(f"left out (not in the upload allowlist; --include GLOB adds): {', '.join(result['left_out'])}",
                   err=True)
    if result["skipped"]:
        text = f"unchanged, not pushed: {result['ref']} version {result['version']} (skipped)"
    else:
        text = (f"pushed {result['ref']} version {result['version']} ({result['status']}, "
                f"{len(result['files'])} files, {result['size_bytes'] / 1e6:.2f} MB, {result['seconds']:.1f} s)")
    emit(result, as_json, text + (" [sandbox]" if result["sandbox"] else ""))
