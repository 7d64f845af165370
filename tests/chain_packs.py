"""The packs the generic chain is tested on (issue 23, item 8): the two toy packs in tests/toy_pack, never pack 1.

toy-echo submits a CSV through the `file` mechanism, toy-serve a Parquet file through `inference_server`; neither
loads a model, and their kernels import nothing of the kit. conftest.py's `chain_pack` fixture is parametrized
over them; a `ChainPack` says what a test needs to know of the pack without naming it.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TOY = Path(__file__).resolve().parent / "toy_pack"
MODULES = {"toy-echo": "toy_echo", "toy-serve": "toy_serve"}
CHAIN_PACKS = tuple(MODULES)


class ChainPack:
    """One registered toy pack, seen the way generic code sees it (slug, submission spec, recipes)."""

    def __init__(self, slug: str, module: Any) -> None:
        self.slug = slug
        self.module = module
        self.pack = module.PACK
        self.columns = tuple(self.pack.submission.columns)
        self.file_name = self.pack.submission.file_name
        self.mechanism = self.pack.submission.mechanism
        self.templates = list(self.pack.recipes())

    def __repr__(self) -> str:
        return f"ChainPack({self.slug})"

    def config(self, **kaggle: Any) -> Any:
        """A KitConfig naming this pack explicitly, account alice (plus `kaggle` keys)."""
        from kit.config import config_from_dict

        return config_from_dict({"competition": {"slug": self.slug}, "kaggle": {"username": "alice", **kaggle}})

    def write_toml(self, folder: Path | None = None) -> Path:
        """A kit.toml naming this pack in `folder` (the current directory): what the CLI reads."""
        path = (folder or Path.cwd()) / "kit.toml"
        path.write_text(f'[competition]\nslug = "{self.slug}"\n[kaggle]\nusername = "alice"\n', encoding="utf-8")
        return path

    def entry_point_for_children(self, site: Path, monkeypatch: Any) -> None:
        """A real `kit.packs` entry point for this pack in `site` (a dist-info), on the PYTHONPATH of the
        processes this test starts (a fresh `kit`, the sandbox's background emulator): registering it in this
        process does not reach them."""
        import os

        info = site / f"{self.module.__name__}-0.1.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {self.module.__name__}\nVersion: 0.1\n",
                                       encoding="utf-8")
        (info / "entry_points.txt").write_text(f"[kit.packs]\n{self.slug} = {self.module.__name__}:PACK\n",
                                               encoding="utf-8")
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TOY), str(site), os.environ.get("PYTHONPATH", "")]))

    def table(self, rows: list[tuple[str, ...]], header: tuple[str, ...] | None = None) -> dict[str, str | bytes]:
        """{the pack's submission file name: its content} holding `rows` under `header` (default: the pack's
        columns), as CSV text or Parquet bytes by the file's suffix: the files a kernel version leaves."""
        header = header or self.columns
        if not self.file_name.endswith(".parquet"):
            lines = [",".join(header), *(",".join(r) for r in rows)]
            return {self.file_name: "\n".join(lines) + "\n"}
        import pandas as pd

        buffer = io.BytesIO()
        pd.DataFrame([dict(zip(header, r, strict=True)) for r in rows], columns=list(header)).to_parquet(buffer)
        return {self.file_name: buffer.getvalue()}

    def good_output(self) -> dict[str, str | bytes]:
        """A valid submission: two rows, every value given."""
        return self.table([("1", "7"), ("2", "8")])

    def bad_outputs(self) -> dict[str, dict[str, str | bytes]]:
        """Outputs the chain must refuse before submitting, by what is wrong with them."""
        key, value = self.columns[:2]
        return {"blank value": self.table([("1", "7"), ("2", "  ")]),
                "missing column": self.table([("1", "7")], header=(key, "text")),
                "no rows": self.table([]),
                "duplicate id": self.table([("1", "7"), ("1", "8")])}


@contextlib.contextmanager
def registered(slug: str) -> Iterator[ChainPack]:
    """The toy pack `slug` imported from tests/toy_pack and registered in this process (kit.pack.register); both
    undone afterwards. Children of this process do not see it (tests/helpers.install_toy_pack gives them a real
    entry point)."""
    from kit import pack as registry

    name = MODULES[slug]
    sys.path.insert(0, str(TOY))
    sys.modules.pop(name, None)
    try:
        module = __import__(name)
        registry.register(module.PACK)
        yield ChainPack(slug, module)
    finally:
        registry._PACKS.pop(slug, None)
        sys.modules.pop(name, None)
        sys.path.remove(str(TOY))
