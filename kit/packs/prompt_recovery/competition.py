"""The LLM Prompt Recovery competition as the sandbox emulator serves it (the pack's `emulator()`, kit/pack.py):
the public files a kernel sees, the hidden labelled test set swapped in when a code submission re-runs the
kernel, and the scorer split into public and private parts.

Mirrors Kaggle: the public test.csv holds one placeholder row (id -1); the re-run sees the real test set.
Built from the bundled mini-competition (data/mini: rows the embedded instruct model rewrote), so a sandbox
score means recovering the prompt the rewriter really followed. Imports no Kaggle code.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from kit.packs.prompt_recovery.kernel import TEST_COLUMNS
from kit.tables import copy_head, write_rows

PLACEHOLDER = {
    "id": "-1",
    "original_text": "The competition's public test set holds one example row; the hidden set replaces it on submit.",
    "rewritten_text": "Only one row is public: the real test rows appear when the notebook is re-run for scoring.",
}


class EmulatedPromptRecovery:
    """Files and scorer of llm-prompt-recovery, for the emulator."""

    slug = "llm-prompt-recovery"
    title = "LLM Prompt Recovery"
    submission_file = "submission.csv"
    mechanism = "file"
    seed_leaderboard = (("Seeded Team Alpha", 0.6500), ("Seeded Team Beta", 0.6100), ("Seeded Team Gamma", 0.5200))
    public_percent = 50  # share of hidden ids scored on the public leaderboard (fixed by id hash)

    def __init__(self, data_dir: Path | None = None, train_rows: int = 5) -> None:
        self._data_dir = Path(data_dir) if data_dir else None
        self.train_rows = train_rows

    @property
    def data_dir(self) -> Path:
        if self._data_dir is None:
            from kit.packs.prompt_recovery.samples import mini_competition_dir

            self._data_dir = mini_competition_dir()
        return self._data_dir

    def mount(self, dest: Path, hidden: bool) -> Path:
        """Write the competition folder a kernel sees: public files, or the hidden test set on a re-run."""
        dest.mkdir(parents=True, exist_ok=True)
        copy_head(self.data_dir / "train.csv", dest / "train.csv", self.train_rows)
        shutil.copyfile(self.data_dir / "sample_submission.csv", dest / "sample_submission.csv")
        if hidden:
            shutil.copyfile(self.data_dir / "test.csv", dest / "test.csv")
        else:
            write_rows(dest / "test.csv", [PLACEHOLDER], TEST_COLUMNS)
        return dest

    def is_public(self, row_id: str) -> bool:
        """Fixed public/private split of the hidden ids."""
        return hashlib.sha256(str(row_id).encode()).digest()[0] * 100 < self.public_percent * 256

    def score(self, submission: Path) -> dict[str, float]:
        """{'public': mean, 'private': mean} of the competition metric over each part of the hidden ids."""
        from kit.packs.prompt_recovery.metric import score_files

        # Scored as `kit score` and run-local score (keep_suffix None): the full string with sentence-t5, as the real
        # host did, and without the lucrarea suffix under the bundled MiniLM proxy this scorer loads. The suffix is a
        # sentence-t5 artefact (up to +0.05 on the leaderboard) that the proxy punishes: on 40 mini-competition rows
        # the proxy scored `mean` 0.141 without it and 0.090 with it, which ranked the mean prompt last of mean,
        # fewshot (0.099), best (0.116; 0.109 in full) and zeroshot (0.144), the reverse of the leaderboard, where a
        # mean prompt with the suffix beats single predictions. Scored this way, history's pairs compare like with like.
        report = score_files(Path(submission), self.data_dir / "test_labels.csv", keep_suffix=None)
        public = [s for i, s in zip(report.ids, report.per_row, strict=True) if self.is_public(i)]
        private = [s for i, s in zip(report.ids, report.per_row, strict=True) if not self.is_public(i)]
        everything = list(report.per_row)
        return {"public": _mean(public or everything), "private": _mean(private or everything)}


def _mean(values: list[float]) -> float:
    return float(sum(values) / len(values)) if values else 0.0


EMULATED = EmulatedPromptRecovery()
