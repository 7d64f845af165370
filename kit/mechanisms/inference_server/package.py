"""Write the kit's `kaggle_evaluation` package into a competition's data folder, with that competition's modules.

A starter notebook then runs unchanged against the folder: `sys.path.append('/kaggle/input/<comp>')` and
`import kaggle_evaluation.<prefix>_inference_server`. The two competition modules are generated from the
GatewaySpec; everything else is copied verbatim from the package the kit itself imports.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from ...errors import InputError
from ...files import atomic_dir
from .kaggle_evaluation.core.spec import GatewaySpec

PACKAGE_DIR = Path(__file__).resolve().parent / "kaggle_evaluation"
PACKAGE_NAME = PACKAGE_DIR.name

_GATEWAY_MODULE = '''\
"""The {competition} gateway, as rehearsed by kit (written from a GatewaySpec).

On a scoring rerun: python -m kaggle_evaluation.{prefix}_gateway [TEST_FILE] [--host inference_server=ADDRESS]
"""

import sys

from .core.spec import GatewaySpec
from .core.spec_gateway import SpecGateway, main

SPEC = {spec}


class {gateway}(SpecGateway):
    spec = SPEC


if __name__ == "__main__":
    sys.exit(main({gateway}))
'''

_SERVER_MODULE = '''\
"""The {competition} inference server: build it with your `predict`, then serve() or run_local_gateway()."""

from .core.templates import InferenceServer
from .{prefix}_gateway import {gateway}


class {server}(InferenceServer):
    ports = {gateway}.spec.ports

    def _get_gateway_for_test(self, data_paths=None, file_share_dir=None, *args, **kwargs):
        return {gateway}(data_paths, file_share_dir, *args, **kwargs)
'''


def spec_source(spec: GatewaySpec) -> str:
    """`spec` as a Python expression, one field a line (its repr is valid Python: str, number, bool, None, tuple)."""
    lines = [f"    {field.name}={getattr(spec, field.name)!r}," for field in dataclasses.fields(spec)]
    return "\n".join([f"{type(spec).__name__}(", *lines, ")"])


def gateway_module_source(spec: GatewaySpec) -> str:
    """The text of `<prefix>_gateway.py` for `spec`."""
    return _GATEWAY_MODULE.format(competition=spec.competition, prefix=spec.module_prefix, spec=spec_source(spec),
                                  gateway=spec.gateway_class)


def server_module_source(spec: GatewaySpec) -> str:
    """The text of `<prefix>_inference_server.py` for `spec`."""
    return _SERVER_MODULE.format(competition=spec.competition, prefix=spec.module_prefix,
                                 gateway=spec.gateway_class, server=spec.server_class)


def write_package(dest: Path, spec: GatewaySpec) -> Path:
    """Write `dest/kaggle_evaluation/` for the competition `spec` describes and return that folder.

    A `kaggle_evaluation` folder already in `dest` is replaced: it is a build output, never the user's work.
    """
    dest = Path(dest)
    if not dest.is_dir():
        raise InputError(f"{dest}: not a directory (the competition data folder to write kaggle_evaluation into)")
    target = dest / PACKAGE_NAME
    if target.is_symlink() or target.is_file():
        raise InputError(f"{target}: exists and is not a folder; remove it first")
    if target.exists():
        shutil.rmtree(target)
    with atomic_dir(target) as build:  # a notebook never sees a half-written package
        shutil.copytree(PACKAGE_DIR, build, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)
        (build / f"{spec.module_prefix}_gateway.py").write_text(gateway_module_source(spec), encoding="utf-8")
        (build / f"{spec.module_prefix}_inference_server.py").write_text(server_module_source(spec),
                                                                          encoding="utf-8")
    return target
