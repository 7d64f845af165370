"""`kit wheels`: build (and push) the offline wheel bundle the inference kernel installs."""

from __future__ import annotations

from pathlib import Path

import click

from kit.commands._common import config_from, emit, json_option


@click.command("wheels")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Bundle folder (default: $KIT_HOME/wheels). Must be empty or an earlier bundle.")
@click.option("--push", is_flag=True, help="Push the bundle as the wheels dataset (skipped when unchanged).")
@click.option("--sandbox", is_flag=True, help="Push to the local emulator instead of kaggle.com.")
@click.option("--image-freeze", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="`pip list --format=freeze` captured on the Kaggle image: replaces the profile's package list.")
@click.option("--profile", default=None,
              help="Image profile: kaggle-gpu-2026 (default, today's image), kaggle-gpu-2024, or a file path.")
@click.option("--python-version", default=None, help="Python X.Y of the image (default: the profile's).")
@click.option("--platform", default=None,
              help="Wheel platform tag(s), comma-separated (default: the profile's).")
@click.option("--find-links", "find_links", multiple=True, type=click.Path(file_okay=False, exists=True),
              help="Take wheels only from these folders instead of the package index (repeatable; no network).")
@click.option("--kit-only", is_flag=True, help="Only the kit's own wheel and the manifest (fast, offline).")
@click.option("--no-verify", is_flag=True, help="Skip the offline check that the closure resolves on the image.")
@json_option
@click.pass_context
def command(ctx: click.Context, out: Path | None, push: bool, sandbox: bool, image_freeze: Path | None,
            profile: str | None, python_version: str | None, platform: str | None, find_links: tuple[str, ...],
            kit_only: bool,
            no_verify: bool, as_json: bool) -> None:
    """Build the kit's wheel plus every dependency the Kaggle image lacks, as wheels for the image; check
    the closure resolves offline; with --push, upload it as a dataset version when its manifest changed.

    The kernel installs it with: pip install --no-index --find-links /kaggle/input/<dataset> kaggle-kit
    """
    import dataclasses

    from kit.chain.wheels import build_bundle, image_target, push_bundle
    from kit.config import kit_home

    cfg = config_from(ctx)
    k = dataclasses.replace(cfg.kaggle, image_profile=profile) if profile else cfg.kaggle
    tgt = image_target(k, image_freeze, python_version, platform)
    bundle = build_bundle(out or kit_home() / "wheels", kit_only=kit_only,
                          python_version=tgt.python_version, platform=tgt.platform,
                          image_freeze=tgt.freeze, verify=not no_verify, constraints=tgt.constraints,
                          host_only=k.wheels_host_only, sources=list(find_links) or None, progress=not as_json)
    result = bundle.to_dict()
    if push:
        result["push"] = push_bundle(bundle.path, cfg, sandbox=True if sandbox else None)
    lines = [f"image: {tgt.profile.name} (checked {tgt.profile.checked or 'unknown'}), Python {tgt.python_version}, "
             f"{tgt.platform}, packages from {tgt.freeze}",
             f"bundle: {bundle.path} ({len(bundle.wheels)} wheels, {bundle.total_bytes / 1e6:.1f} MB, "
             f"{'verified offline' if bundle.verified else 'not verified'})"]
    lines += [f"  {w['filename']}  {w['size'] / 1e6:.1f} MB" for w in bundle.wheels]
    if push:
        p = result["push"]
        lines.append(f"{'unchanged, not pushed' if p['skipped'] else 'pushed'}: {p['ref']} version {p['version']}")
    emit(result, as_json, "\n".join(lines))
