"""The llm-prompt-recovery pack object, registered under the `kit.packs` entry points (pyproject.toml).

seam-edges keeps this minimal: the chain's part of the protocol (recipes, data checks, scoring, the emulator's view)
is the seam-chain branch's; the edges (commands, config sections and defaults, demo hooks) come from the mixin.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kit.pack import KernelSpec, Recipe, SubmissionSpec
from kit.packs.prompt_recovery.edges import PromptRecoveryEdges

_PACKAGE = Path(__file__).resolve().parent


class PromptRecoveryPack(PromptRecoveryEdges):
    """LLM Prompt Recovery: recover the prompt that made Gemma rewrite a text."""

    slug = "llm-prompt-recovery"
    title = "LLM Prompt Recovery"
    submission = SubmissionSpec(("id", "rewrite_prompt"))

    @property
    def kernel(self) -> KernelSpec:
        """The inference notebook and its parameters."""
        from kit.packs.prompt_recovery.guard import HIDDEN_ROWS

        return KernelSpec(notebook=_PACKAGE.parents[2] / "notebooks" / "infer.ipynb", params=dict,
                          hidden_rows=HIDDEN_ROWS)

    def recipes(self) -> Mapping[str, Recipe]:
        """Every template, as a recipe."""
        from kit.packs.prompt_recovery.templates import list_templates

        return {t.name: Recipe(t.name, t.summary, needs_model=bool(t.primes),
                               model_sources=("rewriter",) if t.name.startswith("rescore") else ())
                for t in list_templates()}

    def check_data(self, folder: Path) -> int:
        """The competition's test folder, checked."""
        from kit.packs.prompt_recovery.inputs import check_test_folder

        return check_test_folder(folder, self.kernel.labels_file)

    def mini_competition(self) -> Path:
        """The bundled mini-competition."""
        from kit.packs.prompt_recovery.samples import mini_competition_dir

        return mini_competition_dir()

    def score(self, submission: Path, labels: Path, **options: Any) -> dict[str, Any]:
        """The metric over the submission's ids."""
        from kit.packs.prompt_recovery.metric import score_files

        return score_files(Path(submission), Path(labels), **options).to_dict()

    def emulator(self) -> Any:
        """The sandbox's view of the competition."""
        from kit.packs.prompt_recovery.competition import PACK as VIEW

        return VIEW


PACK = PromptRecoveryPack()
