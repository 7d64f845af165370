"""LLM Prompt Recovery as generic code sees it: the `kit.pack.Pack` registered under the `kit.packs` entry point
`llm-prompt-recovery` (pyproject.toml).

Everything here is cheap to import (`kit --help` finds packs): the pack's heavier modules load when used.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kit.pack import KernelSpec, Recipe, SubmissionSpec
from kit.packs.prompt_recovery.edges import PromptRecoveryEdges
from kit.packs.prompt_recovery.kernel import HIDDEN_ROWS
from kit.packs.prompt_recovery.params import COMPETITION, InferParams
from kit.packs.prompt_recovery.samples import NOTEBOOKS


class PromptRecovery(PromptRecoveryEdges):
    """The llm-prompt-recovery competition: rewrite prompts scored by sentence-t5 sharpened cosine similarity."""

    slug = COMPETITION
    title = "LLM Prompt Recovery"
    submission = SubmissionSpec(("id", "rewrite_prompt"))
    kernel = KernelSpec(notebook=NOTEBOOKS / "infer.ipynb", params=InferParams, hidden_rows=HIDDEN_ROWS,
                        labels_file="test_labels.csv")

    def recipes(self) -> Mapping[str, Recipe]:
        """The registered prompt templates: those with primes load the model, re-scoring ones the rewriter."""
        from kit.packs.prompt_recovery.templates import list_templates

        return {t.name: Recipe(t.name, t.summary, needs_model=bool(t.primes),
                               model_sources=("rewriter",) if t.rescore else ())
                for t in list_templates()}

    def check_data(self, folder: Path) -> int:
        """test.csv with its columns and unique ids; the labels, when present, for every id (InputError)."""
        from kit.packs.prompt_recovery.inputs import check_test_folder

        return check_test_folder(Path(folder), self.kernel.labels_file)

    def mini_competition(self) -> Path:
        """The bundled mini-competition: rows the embedded instruct model rewrote with known prompts."""
        from kit.packs.prompt_recovery.samples import mini_competition_dir

        return mini_competition_dir()

    def score(self, submission: Path, labels: Path, **options: Any) -> dict[str, Any]:
        """The metric over the ids the submission holds (a --rows run covers only some). Options: `embedder` (a
        folder), else `config` (a KitConfig) whose [score] embedder is used, else the bundled proxy. Carries a human
        `note` when the suffix was removed."""
        from kit.packs.prompt_recovery.metric import describe_suffix

        result = self._report(submission, labels, options).to_dict()
        if result.get("suffix_removed"):
            result["note"] = describe_suffix(result)
        return result

    def row_scores(self, submission: Path, labels: Path, **options: Any) -> dict[str, float]:
        """The sharpened cosine of each row `score` averages (same embedder, same suffix rule), by id."""
        report = self._report(submission, labels, options)
        return dict(zip(report.ids, report.per_row, strict=True))

    def _report(self, submission: Path, labels: Path, options: dict[str, Any]) -> Any:
        """The metric's ScoreReport (per-row scores included) for the submission's ids; options as for `score`."""
        from kit.errors import InputError
        from kit.packs.prompt_recovery.metric import load_embedder, score
        from kit.tables import read_rows

        key, value = self.submission.columns
        preds = {r[key]: r[value] for r in read_rows(submission, required=self.submission.columns)}
        labels_of = {r[key]: r[value] for r in read_rows(labels, required=self.submission.columns)}
        missing = [i for i in preds if i not in labels_of]
        if missing:
            raise InputError(f"{labels}: no label for {len(missing)} submission id(s), first: {missing[0]!r}")
        config = options.get("config")
        embedder = options.get("embedder") or (config.section("score").embedder if config is not None else "") or None
        return score(preds, {i: labels_of[i] for i in preds}, load_embedder(embedder))

    def emulator(self) -> Any:
        """The sandbox's competition: public files, the hidden set for re-runs, the public/private scorer."""
        from kit.packs.prompt_recovery.competition import EMULATED

        return EMULATED


PACK = PromptRecovery()
