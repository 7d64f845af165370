"""`kit build-submission`: render the inference kernel for one template."""

from __future__ import annotations

from pathlib import Path

import click

from kit.commands._common import config_from, emit, json_option, set_option


@click.command("build-submission")
@click.option("--template", default=None, help="The pack's recipe (template) name (default: [infer] template).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("kernel"), show_default=True,
              help="Folder for the rendered notebook, kernel-metadata.json and kit_kernel.json.")
@click.option("--sandbox", is_flag=True, default=None, help="Bind to what was pushed to the local sandbox.")
@set_option
@json_option
@click.pass_context
def command(ctx: click.Context, template: str | None, out: Path, sandbox: bool | None, settings: tuple[str, ...],
            as_json: bool) -> None:
    """Render the competition pack's kernel notebook (papermill, prepare only) bound to the pushed adapter and wheels
    versions."""
    from kit.chain.build import build_submission

    info = build_submission(config_from(ctx, settings), template=template, out=out, sandbox=sandbox)
    for note in info["notes"]:
        click.echo(f"note: {note}", err=True)
    meta = info["metadata"]

    def pin(what: str) -> str:  # the versioned ref the kernel mounts, as kernel-metadata.json lists it
        mounted = info["sources"].get(what)
        if mounted not in meta["dataset_sources"]:
            return f"{what}: not mounted"
        version = (info.get(what) or {}).get("version")
        return f"{what}: {info[what]['ref']} " + (f"v{version}" if version else "(latest: pushed without waiting)")

    text = "\n".join([
        f"kernel {meta['id']} (template {info['template']}) in {info['folder']}",
        f"  notebook: {info['notebook']}",
        f"  datasets: {', '.join(meta['dataset_sources']) or '-'}; models: {', '.join(meta['model_sources']) or '-'}",
        f"  {pin('adapter')}; {pin('wheels')}; base model: {info.get('base_model') or '-'}",
        f"  machine: {meta.get('machine_shape', 'cpu')}; internet: off; kernel hash {info['kernel_hash'][:12]}",
        "next: kit submit" + (" --sandbox" if info["sandbox"] else ""),
    ])
    emit(info, as_json, text)
