"""What a prompt-recovery adapter records beyond the generic `kit.artefacts.AdapterInfo`: the prompt format it
was trained in (the kernel predicts in the same one) and its validation score. The pack's `adapter_fields()`.

Standard library only, like kit.artefacts: the kernel reads it on Kaggle before any model loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kit.artefacts import Artefact
from kit.config import _f


@dataclass
class PromptRecoveryAdapter(Artefact):
    """kit_adapter.json's prompt-recovery fields (saved flat beside the generic ones)."""

    template: str | None = _f(None, "The template whose prompt format the adapter was trained on.")
    prime: str | None = _f(None, "The answer prime training used; inference predicts from the same one.")
    val_score: dict[str, Any] | None = _f(None, "Validation score: mean, ci_low, ci_high, n, embedder, examples.")
    val_seconds: float | None = _f(None, "Validation wall time.")

    def __post_init__(self) -> None:
        self.check_types()
        if self.val_score is not None and "mean" not in self.val_score:
            raise ValueError("val_score has no mean")

    @property
    def trained_format(self) -> bool:
        """Whether the adapter records the prompt format (template and prime) it was trained with."""
        return self.template is not None and self.prime is not None
