"""The pack's bundled data: competition-format sample CSVs and the local mini-competition."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def sample_data_dir() -> Path:
    """Folder with the bundled competition-format CSVs (train, test, test_labels, sample_submission)."""
    return Path(str(resources.files("kit.packs.prompt_recovery") / "data"))


def mini_competition_dir() -> Path:
    """The local mini-competition (data/mini): rows the embedded instruct model rewrote with known prompts.

    The default data of `kit run-local`, `kit train` and the sandbox's hidden test set, so a local score means
    what the competition's meant: recover the prompt the rewriter really followed.
    """
    return sample_data_dir() / "mini"
