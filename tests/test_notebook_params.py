"""The notebooks at the top (notebooks/<pack>/): hand-written, except each kernel notebook's `parameters` cell,
which `make notebooks` (scripts/sync_notebook_params.py) writes from the pack's params dataclass. These tests fail
while a cell and its dataclass disagree, and check that the sync touches that one cell and nothing else."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

from kit.errors import NotebookError
from kit.kernel.params import cell_source, sync_notebook
from kit.notebooks import parameters_source, write_parameters
from kit.pack import available, get_pack
from kit.packs.prompt_recovery.params import InferParams

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
sys.path.insert(0, str(REPO / "scripts"))
import sync_notebook_params  # noqa: E402

# Notebooks whose parameters are not a pack's params dataclass, and why: their cell is hand-written like the rest.
HAND_WRITTEN = {
    "prompt_recovery/train.ipynb": "takes one free-form `knobs` dict of [train] keys, checked by kit train",
}
INFER = NOTEBOOKS / "prompt_recovery" / "infer.ipynb"


def builtin_kernels() -> dict[str, tuple[Path, type]]:
    """slug -> (kernel notebook, params dataclass) of every pack this repository ships (kit.packs.*)."""
    found = {}
    for slug in available():
        pack = get_pack(slug)
        if type(pack).__module__.startswith("kit.packs."):  # a pack of this distribution, not a test's toy
            found[slug] = (Path(pack.kernel.notebook), pack.kernel.params)
    return found


def test_every_builtin_kernel_notebooks_parameters_cell_is_its_params_dataclass():
    kernels = builtin_kernels()
    assert {"llm-prompt-recovery", "ai-mathematical-olympiad-progress-prize-3"} <= set(kernels)
    for slug, (notebook, params) in kernels.items():
        assert notebook.is_relative_to(NOTEBOOKS), f"{slug}: {notebook} is not under notebooks/"
        assert parameters_source(notebook) == cell_source(params), \
            f"{notebook.relative_to(REPO)} disagrees with {params.__name__}: run `make notebooks`"
    assert sync_notebook_params.main(["--check"]) == 0


def test_every_notebook_at_the_top_is_a_kernel_or_declared_hand_written():
    """A new notebook is either some pack's kernel (its cell checked above) or listed here with a reason."""
    on_disk = {str(p.relative_to(NOTEBOOKS)) for p in NOTEBOOKS.rglob("*.ipynb")}
    kernels = {str(nb.relative_to(NOTEBOOKS)) for nb, _ in builtin_kernels().values()}
    assert on_disk == kernels | set(HAND_WRITTEN) and not kernels & set(HAND_WRITTEN)
    assert {str(p.relative_to(NOTEBOOKS)) for p, _ in sync_notebook_params.kernel_notebooks()} == kernels
    for name in on_disk:  # the file a pack's code opens is the one at the top
        pack_dir = REPO / "kit" / "packs" / Path(name).parent / "notebooks"
        assert pack_dir.is_symlink() and (pack_dir / Path(name).name).resolve() == NOTEBOOKS / name


def test_the_kernels_share_one_install_cell():
    """The offline-install cell opens every kernel notebook and runs before the kit exists, so it cannot call the
    library: each notebook holds it, and they must stay the same."""
    cells = {}
    for notebook, _ in builtin_kernels().values():
        code = [c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
        installs = [s for s in code if "_kit_t0 = time.time()" in s]
        assert len(installs) == 1 and code.index(installs[0]) == 1, notebook  # right after the parameters
        cells[notebook.name] = installs[0]
    assert len(set(cells.values())) == 1, f"install cells differ between {', '.join(sorted(cells))}"


def _edited(path: Path, index: int, source: str) -> str:
    """The notebook's text with cell `index`'s source replaced, as Jupyter would save it."""
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nb.cells[index].source = source
    return nbformat.writes(nb) + "\n"


def test_sync_rewrites_a_stale_parameters_cell_and_leaves_every_other_byte(tmp_path):
    original = INFER.read_text(encoding="utf-8")
    nb = nbformat.reads(original, as_version=nbformat.NO_CONVERT)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and i > at + 1)
    stale_cell = cell_source(InferParams).replace("batch_size = 8", "batch_size = 4").replace(
        "merge_adapter = True  # merge the LoRA adapter before generating\n", "")
    assert stale_cell != cell_source(InferParams)
    # someone's own edit in a code cell, which the sync must keep
    mine = nbformat.reads(original, as_version=nbformat.NO_CONVERT).cells[code].source + "\nprint('mine')"
    copy = tmp_path / "infer.ipynb"
    shutil.copyfile(INFER, copy)
    copy.write_text(_edited(copy, code, mine), encoding="utf-8")
    expected = copy.read_text(encoding="utf-8")  # in sync, with the hand edit
    copy.write_text(_edited(copy, at, stale_cell), encoding="utf-8")
    stale = copy.read_text(encoding="utf-8")

    assert sync_notebook(copy, InferParams, check=True) is True
    assert copy.read_text(encoding="utf-8") == stale  # a check writes nothing
    assert sync_notebook(copy, InferParams) is True
    assert copy.read_text(encoding="utf-8") == expected  # byte for byte: only the parameters cell moved
    assert parameters_source(copy) == cell_source(InferParams)
    assert sync_notebook(copy, InferParams) is False and sync_notebook(copy, InferParams, check=True) is False


def test_the_script_names_and_fixes_a_stale_notebook(tmp_path, monkeypatch, capsys):
    copy = tmp_path / "infer.ipynb"
    shutil.copyfile(INFER, copy)
    write_parameters(copy, cell_source(InferParams).replace('template = "best"', 'template = "mean"'))
    stale = copy.read_bytes()
    monkeypatch.setattr(sync_notebook_params, "kernel_notebooks", lambda: [(copy, InferParams)])
    monkeypatch.setattr(sync_notebook_params, "NOTEBOOKS", tmp_path / "notebooks")
    assert sync_notebook_params.main(["--check"]) == 1
    assert copy.read_bytes() == stale and "stale parameters cell: infer.ipynb" in capsys.readouterr().out
    assert sync_notebook_params.main([]) == 0
    assert copy.read_bytes() == INFER.read_bytes() and "rewrote parameters cell" in capsys.readouterr().out
    assert sync_notebook_params.main(["--check"]) == 0


def test_a_notebook_not_in_jupyters_saved_form_is_refused_not_reformatted(tmp_path):
    odd = tmp_path / "odd.ipynb"
    odd.write_text(json.dumps(json.loads(INFER.read_text(encoding="utf-8")), indent=2), encoding="utf-8")
    before = odd.read_bytes()
    with pytest.raises(NotebookError, match="not in the form Jupyter saves"):
        write_parameters(odd, "x = 1\n")
    assert odd.read_bytes() == before


def test_a_notebook_needs_exactly_one_parameters_cell(tmp_path):
    nb = nbformat.read(INFER, as_version=nbformat.NO_CONVERT)
    for cell in nb.cells:
        cell.metadata.pop("tags", None)
    bare = tmp_path / "bare.ipynb"
    nbformat.write(nb, bare)
    with pytest.raises(NotebookError, match="0 cells tagged 'parameters'"):
        parameters_source(bare)


def test_readme_layout_puts_notebooks_at_the_top():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("Layout (") :]
    first = next(line for line in section.splitlines() if line.startswith("- "))
    assert first.startswith("- `notebooks/`"), first
