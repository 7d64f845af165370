"""Benchmark: size of the `kit wheels` bundle vs the naive full dependency closure (target ratio <= 1/5).

Usage: python scripts/bench_wheels.py [--python-version 3.10] [--platform manylinux2014_x86_64]

Uses the package index (network): this is a benchmark, not a test.
- bundle: `build_bundle` with the kit.toml defaults and the default image list, built into a temp dir; its
  size is the bytes on disk of the downloaded wheels.
- naive: the same requirement (the kernel build of the kit wheel, same constraints) resolved by the same pip
  runner for the same target with an EMPTY image list: every distribution of the closure. Its multi-GB torch
  and CUDA wheels are not downloaded: pip resolves from the index's metadata (downloads switched off in the
  resolver) and each chosen file's size is its Content-Length (an HTTP HEAD on the file URL pip chose;
  os.stat for local file:// mirrors). Sizes are what pip would download, not installed sizes.
Temp dirs are removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlparse

from kit.config import load_config
from kit.pipresolve import _BOOTSTRAP, Target, _pip_dir, _write_stubs
from kit.wheels import DIST_NAME, build_bundle, build_kit_wheel, image_target

# Resolver without downloads: pip 23's dry run completes every download after resolving; skip that and
# report name, version and the chosen file URL of each distribution instead.
_NO_DOWNLOAD = r"""
from pip._internal.operations.prepare import RequirementPreparer
from pip._internal.models.installation_report import InstallationReport
RequirementPreparer.prepare_linked_requirements_more = lambda self, reqs, parallel_builds=False: None
InstallationReport._install_req_to_dict = classmethod(lambda cls, ireq: {
    "name": ireq.name, "url": ireq.link.url if ireq.link else "", "req": str(ireq.req)})
"""


def naive_closure(kit_wheel: Path, target: Target, constraints: list[str], work: Path) -> list[dict[str, str]]:
    """Every distribution pip picks for `kit_wheel` on the target when nothing is installed."""
    report = work / "naive.json"
    cfile = work / "constraints.txt"
    cfile.write_text("\n".join(constraints) + "\n")
    args = ["install", "--dry-run", "--quiet", "--report", str(report), *target.pip_args(), "-c", str(cfile),
            str(kit_wheel)]
    site = work / "empty-site"
    _write_stubs(site, {})
    site.mkdir(exist_ok=True)
    cfg = {"path": [str(site), str(_pip_dir(work))], "markers": target.markers(), "args": args}
    bootstrap = _BOOTSTRAP.replace("from pip._internal.cli.main import main", _NO_DOWNLOAD +
                                   "from pip._internal.cli.main import main")
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", bootstrap, json.dumps(cfg)], cwd=work,
                          capture_output=True, text=True, env=dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1"))
    if proc.returncode:
        sys.exit(f"naive resolution failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return json.loads(report.read_text())["install"]


def file_size(url: str) -> int:
    """Bytes of one wheel: local stat for file:// URLs, else the Content-Length of a HEAD request."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path)).stat().st_size
    request = urllib.request.Request(url.split("#", 1)[0], method="HEAD")
    with urllib.request.urlopen(request, timeout=60) as response:
        return int(response.headers["Content-Length"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cfg = load_config().kaggle
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
        naive = naive_closure(kit_wheel, target, image.constraints, work)
        rows = []
        for item in naive:
            size = kit_wheel.stat().st_size if item["name"] == DIST_NAME else file_size(item["url"])
            rows.append((size, item["url"].rsplit("/", 1)[-1].split("#")[0] or item["name"]))
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
