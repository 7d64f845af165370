"""The inference kernel's parameters, defined once: `make notebooks` writes the `parameters` cell of
notebooks/prompt_recovery/infer.ipynb from this dataclass (a test fails while they disagree), and
`kit build-submission` / `kit run-local` build their values from it (kit.kernel.params.from_config).
"""

from __future__ import annotations

from dataclasses import dataclass

from kit.errors import ConfigError
from kit.kernel.params import check_fields, param
from kit.packs.prompt_recovery.settings import InferConfig

COMPETITION = "llm-prompt-recovery"


@dataclass
class InferParams:
    """What notebooks/prompt_recovery/infer.ipynb takes. Validated on creation: types, ranges, the margin against
    the budget and the template's name."""

    template: str = param("best", '`kit templates`; "mean" loads no model at all', config="infer.template")
    input_dir: str = param("/kaggle/input", "where Kaggle mounts the attached sources", content=False)
    sources: dict = param(
        {"competition": COMPETITION, "wheels": "", "adapter": "", "model": "", "rewriter": ""},
        "Attached sources by name -> ref, found under either Kaggle layout (kit.kernel.inputs): competition slug, "
        'datasets owner/slug[/N], models owner/model/framework/variation/N. No "model": the kit\'s default model; '
        '"rewriter": the model re-scoring templates (rescore*) rank candidates with (no ref: the kit\'s default '
        "model).", content=False)
    budget_seconds: int = param(InferConfig.budget_seconds, "the competition's 9 h", config="infer.budget_seconds",
                                minimum=1, unit="seconds", content=False)
    margin_seconds: int = param(InferConfig.margin_seconds, "runtime obfuscation (up to 15 min) + slack, kept free of "
                                "generation", config="infer.margin_seconds", minimum=0, unit="seconds", content=False)
    batch_size: int = param(8, "rows per generation batch", config="infer.batch_size", minimum=1, unit="rows")
    max_new_tokens: int = param(32, "tokens generated per candidate", config="infer.max_new_tokens", minimum=1,
                                unit="tokens")
    max_field_tokens: int = param(512, "per original/rewritten text; 0: no cut", config="infer.max_field_tokens",
                                  minimum=0, unit="tokens (0: no cut)")
    mean_prompt: str = param("", "empty: the kit's default", config="mean_prompt.text")
    tuning: str = param("", "`kit tune`'s picks for the re-scoring templates (JSON); empty: their own settings",
                        config="infer.tuning")
    rows: int = param(0, "0: all test rows", minimum=0, unit="rows", content=False)
    workers: int = param(0, "generation processes; 0: one per visible GPU", config="infer.workers", minimum=0,
                         unit="processes", content=False)
    load_in_4bit: bool = param(False, "4-bit NF4 base model (CUDA and bitsandbytes)", config="infer.load_in_4bit")
    merge_adapter: bool = param(True, "merge the LoRA adapter before generating", config="infer.merge_adapter")

    def __post_init__(self) -> None:
        from kit.packs.prompt_recovery.templates import get_template

        check_fields(self)
        if self.margin_seconds >= self.budget_seconds:
            raise ConfigError(f"margin ({self.margin_seconds}s) leaves nothing of the budget ({self.budget_seconds}s)")
        from kit.packs.prompt_recovery.tuning import Tuning

        get_template(self.template)  # ConfigError listing the registered templates
        Tuning.from_text(self.tuning)  # a malformed tuning fails here, not in the kernel
