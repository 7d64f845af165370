"""Rewrite the `parameters` cell of every kernel notebook under notebooks/ from its pack's params dataclass.

The notebooks are edited by hand, in Jupyter or any editor; only their parameters cell is generated, from the
dataclass a pack names in its `KernelSpec` (help text, defaults), so that the values build-submission and run-local
inject and the cell a reader sees are one definition. Every other cell is left byte for byte as it is.

    .venv/bin/python scripts/sync_notebook_params.py          # or: make notebooks
    .venv/bin/python scripts/sync_notebook_params.py --check  # exit 1 naming each stale notebook, write nothing
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kit.kernel.params import sync_notebook
from kit.pack import available, get_pack

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def kernel_notebooks() -> list[tuple[Path, type]]:
    """(notebook, params dataclass) of every installed pack whose kernel notebook lives in this checkout's
    notebooks/ folder (a third-party pack's notebook is its own package's business)."""
    found = []
    for slug in sorted(available()):
        spec = get_pack(slug).kernel
        path = Path(spec.notebook).resolve()  # through kit/packs/<pack>/notebooks, the link to notebooks/<pack>
        if path.is_relative_to(NOTEBOOKS):
            found.append((path, spec.params))
    return found


def main(argv: list[str] | None = None) -> int:
    """Sync (or with --check, only compare) each kernel notebook's parameters cell; 1 when one was stale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a cell is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, params in kernel_notebooks():
        if sync_notebook(path, params, check=args.check):
            stale.append(path)
            print(f"{'stale' if args.check else 'rewrote'} parameters cell: {path.relative_to(NOTEBOOKS.parent)} "
                  f"({params.__module__}.{params.__name__})")
    if args.check and stale:
        print("run `make notebooks` to rewrite them from their dataclasses", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
