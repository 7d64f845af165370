"""Benchmark: size of the `kit wheels` bundle vs the naive full dependency closure (target ratio <= 1/5).

Usage: python scripts/bench_wheels.py [--python-version 3.10] [--platform manylinux2014_x86_64]

Uses the package index (network): this is a benchmark, not a test.
- bundle: `build_bundle` with the kit.toml defaults and the default image list, built into a temp dir; its
  size is the bytes on disk of the downloaded wheels.
- naive: the same requirement (the kernel build of the kit wheel, same constraints) resolved by the same
  resolver (`uv pip compile`) for the same target with an EMPTY image list: every distribution of the closure,
  written as a pylock.toml, which records the size of each target wheel the index lists. Its multi-GB torch
  and CUDA wheels are not downloaded. Sizes are what pip would download, not installed sizes.
Temp dirs are removed at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from packaging import tags
from packaging.utils import parse_wheel_filename

from kit.chain.pipresolve import Target, compile_for_image
from kit.chain.wheels import DIST_NAME, build_bundle, build_kit_wheel, image_target
from kit.config import load_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10 only
    import tomli as tomllib


def naive_closure(kit_wheel: Path, target: Target, constraints: list[str], work: Path) -> list[tuple[int, str]]:
    """(bytes, file name) of every wheel the resolver picks for `kit_wheel` on the target when nothing is
    installed; the kit's own wheel is measured on disk."""
    lock = compile_for_image(kit_wheel, target, {}, work, work / "pylock.toml", constraints)
    version = tuple(int(p) for p in target.python_version.split("."))
    # The target's tags, best first: where the lock lists several fitting wheels, pip takes the best-ranked one.
    ranked = [*tags.cpython_tags(version, platforms=target.platforms()),
              *tags.compatible_tags(version, platforms=target.platforms())]
    rank = {tag: i for i, tag in enumerate(ranked)}
    rows = []
    for package in tomllib.loads(lock.read_text(encoding="utf-8"))["packages"]:
        if package["name"] == DIST_NAME:
            rows.append((kit_wheel.stat().st_size, kit_wheel.name))
            continue
        names = {w.get("name") or w["url"].rsplit("/", 1)[-1]: w for w in package.get("wheels", [])}
        fitting = {n: min(rank.get(t, len(rank)) for t in parse_wheel_filename(n)[3]) for n in names}
        if not fitting:
            sys.exit(f"{package['name']}: no wheel for the target in the lock")
        best = min(fitting, key=fitting.__getitem__)
        rows.append((int(names[best]["size"]), best))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cfg = load_config(Path(__file__).with_name("prompt_recovery.toml")).kaggle  # the first pack's bundle
    parser.add_argument("--python-version", default=None, help="default: the image profile's")
    parser.add_argument("--platform", default=None, help="default: the image profile's")
    args = parser.parse_args()
    image = image_target(cfg, python_version=args.python_version, platform=args.platform)
    target = Target(image.python_version, image.platform)
    with tempfile.TemporaryDirectory(prefix="bench-wheels-") as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        bundle = build_bundle(work / "bundle", python_version=target.python_version, platform=target.platform,
                              image_freeze=image.freeze, constraints=image.constraints,
                              host_only=cfg.wheels_host_only, progress=True)
        built_s = time.perf_counter() - start
        print(f"bundle: {len(bundle.wheels)} wheels in {built_s:.0f} s (verified offline: {bundle.verified})")
        for w in bundle.wheels:
            print(f"  {w['filename']}  {w['size'] / 1e6:.1f} MB")
        kit_wheel = build_kit_wheel(work / "kit", host_only=cfg.wheels_host_only)
        rows = naive_closure(kit_wheel, target, image.constraints, work)
        rows.sort(reverse=True)
        naive_bytes = sum(size for size, _ in rows)
        print(f"naive closure: {len(rows)} wheels; largest:")
        for size, name in rows[:8]:
            print(f"  {name}  {size / 1e6:.1f} MB")
    ratio = bundle.total_bytes / naive_bytes
    print(f"target: python {target.python_version}, platform {target.platform}; image list: kit default")
    print(f"bundle {bundle.total_bytes / 1e6:.1f} MB vs naive closure {naive_bytes / 1e6:.1f} MB: "
          f"ratio {ratio:.4f} (1/{1 / ratio:.0f}; target <= 0.2)")


if __name__ == "__main__":
    main()
