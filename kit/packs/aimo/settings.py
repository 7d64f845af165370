"""The AIMO pack's kit.toml sections: the edition's facts ([aimo]) and the solver's knobs ([infer]).

Defaults are AIMO3's; AIMO2 is a configuration of the same pack (its 5 h limit is AIMO3's too, [infer] budget_seconds):

    [aimo]
    answer_max = 999
    per_call_seconds = 1800
    module_prefix = "aimo_2"
    gateway_class = "AIMO2Gateway"
    server_class = "AIMO2InferenceServer"

Dataclasses only (no torch, no grpc): `kit --help` and `kit history` read these through the pack.
"""

from __future__ import annotations

from dataclasses import dataclass

from kit.config import InferConfig as GenericInferConfig
from kit.config import setting
from kit.errors import ConfigError
from kit.packs.aimo.answers import ANSWER_MAX, ANSWER_MIN

SLUG = "ai-mathematical-olympiad-progress-prize-3"


@dataclass(frozen=True)
class AimoEdition:
    """[aimo]: the facts of one AIMO edition (defaults: AIMO3) that the kernel and the rehearsal depend on."""

    answer_min: int = setting(ANSWER_MIN, "Smallest valid answer (AIMO3 and AIMO2: 0).")
    answer_max: int = setting(ANSWER_MAX, "Largest valid answer (AIMO3: 99999; AIMO2: 999).")
    per_call_seconds: float = setting(32400.0, "The gateway's deadline for one problem in seconds (AIMO3: 9 h, "
                                      "in effect none; AIMO2: 1800).")
    first_call_exempt: bool = setting(True, "The first call has no deadline (gateway core 0.3 and 0.9).")
    problems: int = setting(50, "Problems one run of the notebook answers (AIMO3: 50 per leaderboard).")
    module_prefix: str = setting("aimo_3", "Prefix of the competition's kaggle_evaluation modules.")
    gateway_class: str = setting("AIMO3Gateway", "The gateway's class name.")
    server_class: str = setting("AIMO3InferenceServer", "The inference server's class name notebooks build.")
    private_reruns: int = setting(2, "Times the private set is run; its score is penalized accuracy when 2.")
    sandbox_problems: int = setting(0, "Rehearsal knob, not an edition fact: problems of each hidden part (public, "
                                    "private) the sandbox's scoring re-runs serve; 0: all 50, as Kaggle does. A CPU "
                                    "answers a few in minutes.")

    def __post_init__(self) -> None:
        """One line naming the first impossible value."""
        if not ANSWER_MIN <= self.answer_min <= self.answer_max <= ANSWER_MAX:
            raise ConfigError(f"[aimo] answer range {self.answer_min}..{self.answer_max} must lie within "
                              f"{ANSWER_MIN}..{ANSWER_MAX} (what the answer reader accepts)")
        if self.per_call_seconds <= 5 or self.problems < 1:
            raise ConfigError("[aimo] per_call_seconds > 5 and problems >= 1 are required")
        if self.sandbox_problems < 0:
            raise ConfigError(f"[aimo] sandbox_problems is {self.sandbox_problems}: 0 (all) or more")
        if self.private_reruns not in (1, 2):
            raise ConfigError(f"[aimo] private_reruns is {self.private_reruns}: 1 or 2")
        for name in ("module_prefix", "gateway_class", "server_class"):
            if not getattr(self, name).isidentifier():
                raise ConfigError(f"[aimo] {name} {getattr(self, name)!r} is not a Python identifier")


@dataclass
class InferConfig(GenericInferConfig):
    """Inference kernel settings (`kit run-local`, `kit build-submission`): the recipe and its knobs."""

    template: str = setting("tir-vote", "Recipe: greedy, vote, tir or tir-vote (`kit packs` lists them).")
    budget_seconds: int = setting(18000, "The whole notebook's run-time limit in seconds (AIMO3: 5 h on one H100; "
                                  "AIMO2: 5 h on 4xL4).")
    margin_seconds: int = setting(600, "Kept free at the end of the run: model load jitter, the gateway's work.")
    attempts: int = setting(8, "Attempts per problem for the voting recipes.")
    wave: int = setting(4, "Attempts sampled together (one prefill); the vote is checked after each wave.")
    agree: int = setting(3, "Stop sampling once this many attempts agree on an answer.")
    tool_rounds: int = setting(3, "Most code blocks one tool-integrated attempt may run.")
    max_new_tokens: int = setting(1024, "Tokens generated per attempt between tool calls.")
    temperature: float = setting(0.7, "Sampling temperature of the voting recipes (greedy uses 0).")
    tool_seconds: float = setting(10.0, "Wall-clock limit of one code block.")
    cpu_threads: int = setting(0, "Torch threads when no GPU is visible (0: torch's default, all cores). 1 is many "
                               "times faster for the small embedded model on a busy CPU, where threads spin-wait.")


SECTIONS: dict[str, type] = {"aimo": AimoEdition, "infer": InferConfig}
DEFAULTS: dict[str, dict] = {"kaggle": {"kernel_slug": "kit-aimo3-solve", "kernel_title": "kit aimo3 solve"}}
