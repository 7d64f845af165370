"""The solve kernel's parameters, defined once: `make notebooks` writes the `parameters` cell of
notebooks/aimo/solve.ipynb from this dataclass (a test fails while they disagree), and `kit build-submission` /
`kit run-local` build their values from kit.toml through each field's `config` key (kit.kernel.params.from_config).
"""

from __future__ import annotations

from dataclasses import dataclass

from kit.errors import ConfigError
from kit.kernel.params import check_fields, param
from kit.packs.aimo.settings import SLUG, AimoEdition, InferConfig

RECIPE_NAMES = ("greedy", "vote", "tir", "tir-vote")


@dataclass
class SolveParams:
    """What notebooks/aimo/solve.ipynb takes; validated on creation (types, ranges, the recipe, the answer range)."""

    template: str = param("tir-vote", "greedy, vote, tir or tir-vote", config="infer.template")
    input_dir: str = param("/kaggle/input", "where Kaggle mounts the attached sources", content=False)
    sources: dict = param({"competition": SLUG, "wheels": "", "model": ""},
                          'Attached sources by name -> ref (kit.kernel.inputs). No "model": the kit\'s embedded '
                          "instruct model.", content=False)
    budget_seconds: int = param(InferConfig.budget_seconds, "the whole notebook's limit (AIMO3: 5 h)",
                                config="infer.budget_seconds", minimum=1, unit="seconds", content=False)
    margin_seconds: int = param(InferConfig.margin_seconds, "kept free at the end of the run",
                                config="infer.margin_seconds", minimum=0, unit="seconds", content=False)
    per_call_seconds: float = param(AimoEdition.per_call_seconds, "the gateway's per-problem deadline",
                                    config="aimo.per_call_seconds", minimum=6, unit="seconds", content=False)
    first_call_exempt: bool = param(True, "the first call has no deadline", config="aimo.first_call_exempt",
                                    content=False)
    problems: int = param(50, "problems one run answers, for time banking", config="aimo.problems", minimum=1,
                          unit="problems", content=False)
    answer_min: int = param(0, "smallest valid answer", config="aimo.answer_min", minimum=0)
    answer_max: int = param(99999, "largest valid answer", config="aimo.answer_max", minimum=0)
    module_prefix: str = param("aimo_3", "the competition's kaggle_evaluation module prefix",
                               config="aimo.module_prefix", content=False)
    server_class: str = param("AIMO3InferenceServer", "the inference server class", config="aimo.server_class",
                              content=False)
    attempts: int = param(8, "attempts per problem (voting recipes)", config="infer.attempts", minimum=1)
    wave: int = param(4, "attempts sampled together from one prefill", config="infer.wave", minimum=1)
    agree: int = param(3, "stop once this many attempts agree", config="infer.agree", minimum=1)
    tool_rounds: int = param(3, "most code blocks per attempt (tir recipes)", config="infer.tool_rounds", minimum=0)
    max_new_tokens: int = param(1024, "tokens per generation step", config="infer.max_new_tokens", minimum=1)
    temperature: float = param(0.7, "sampling temperature (voting recipes)", config="infer.temperature", minimum=0)
    tool_seconds: float = param(10.0, "wall-clock limit of one code block", config="infer.tool_seconds",
                                minimum=1, unit="seconds")
    batch_size: int = param(8, "sequences decoded together", config="infer.batch_size", minimum=1)
    cpu_threads: int = param(0, "torch threads on a CPU-only machine; 0: torch's default", config="infer.cpu_threads",
                             minimum=0, content=False)
    rows: int = param(0, "0: every test problem (the local gateway's run)", minimum=0, content=False)

    def __post_init__(self) -> None:
        check_fields(self)
        if self.template not in RECIPE_NAMES:
            raise ConfigError(f"unknown template {self.template!r} for {SLUG}",
                              hint=f"known: {', '.join(RECIPE_NAMES)}")
        if self.margin_seconds >= self.budget_seconds:
            raise ConfigError(f"margin ({self.margin_seconds}s) leaves nothing of the budget ({self.budget_seconds}s)")
        if self.answer_min > self.answer_max:
            raise ConfigError(f"answer range {self.answer_min}..{self.answer_max} is empty")
