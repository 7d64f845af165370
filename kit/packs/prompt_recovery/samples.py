"""The pack's bundled files: its notebooks, competition-format sample CSVs and the local mini-competition."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

# notebooks/prompt_recovery/ in a checkout (the pack's `notebooks` folder links there), package data in a wheel
NOTEBOOKS = (Path(__file__).resolve().parent / "notebooks").resolve()


def notebook_path(name: str) -> Path:
    """One of the pack's notebooks (`infer`, `train`)."""
    from kit.errors import NotebookError

    path = NOTEBOOKS / f"{name}.ipynb"
    if not path.is_file():
        raise NotebookError(f"notebook '{name}' not found in {NOTEBOOKS}")
    return path


def sample_data_dir() -> Path:
    """Folder with the bundled competition-format CSVs (train, test, test_labels, sample_submission)."""
    return Path(str(resources.files("kit.packs.prompt_recovery") / "data"))


def mini_competition_dir() -> Path:
    """The local mini-competition (data/mini): rows the embedded instruct model rewrote with known prompts.

    The default data of `kit run-local`, `kit train` and the sandbox's hidden test set, so a local score means
    what the competition's meant: recover the prompt the rewriter really followed.
    """
    return sample_data_dir() / "mini"
