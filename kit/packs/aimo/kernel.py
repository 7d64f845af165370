"""The solve kernel's glue (imported by notebooks/aimo/solve.ipynb): the recipe as the `predict` the gateway calls.

Stdlib at import: the model (torch, transformers) loads lazily on the first problem, and only for recipes that
need it; the tool pool starts only for the tir recipes. Time banking is kit.kernel.serving's: each problem's
allowance is the time left less the margin over the problems left, within the per-call deadline; the recipes
check it before each generation step, and the answer so far or the fallback is always returned.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kit.kernel.serving import CallBudget, Deadline, Lazy, serve_predict
from kit.packs.aimo import solvers

SYSTEM = "Solve the math problem. Put the final integer answer in \\boxed{}."
SYSTEM_TOOLS = ("Solve the math problem by writing a short Python program that prints the answer; its output is "
                "shown to you. Put the final integer answer in \\boxed{}.")
# One worked example before the problem, in the format the recipe expects (a small model copies a format it was
# shown far more reliably than one it was told about). Our own problem, in none of the pack's problem sets.
EXAMPLE = "A shelf holds $24$ books. How many books fit on $15$ shelves?"
EXAMPLE_ANSWER = "$24 \\times 15 = 360$ books.\nThe answer is $\\boxed{360}$."
EXAMPLE_TOOLS = (f"{solvers.CODE_OPEN}print(24 * 15){solvers.CODE_CLOSE}"
                 f"{solvers.OUTPUT_BLOCK.format(output='360')}The answer is $\\boxed{{360}}$.")
# After a tool-integrated attempt's last clean code run: the model states the answer its program printed.
ANSWER_LEAD = "The answer is $\\boxed{"


class EngineModel:
    """`solvers.Model` over the kit's Engine: the problem as a chat prompt, sampling with one prefill per text."""

    def __init__(self, engine: Any, max_new_tokens: int, temperature: float, batch_size: int) -> None:
        self.engine, self.max_new_tokens = engine, max_new_tokens
        self.temperature, self.batch_size = temperature, batch_size

    def prompt(self, problem: str, tools: bool = False) -> str:
        """The chat-formatted start of every attempt: one worked example, then the problem. With `tools` the
        example solves with a program and the answer opens a ```python block (code first: a small model left to
        choose mostly reasons in words and gets the arithmetic wrong)."""
        system, answer = (SYSTEM_TOOLS, EXAMPLE_TOOLS) if tools else (SYSTEM, EXAMPLE_ANSWER)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": EXAMPLE},
                    {"role": "assistant", "content": answer}, {"role": "user", "content": problem}]
        text = self.engine.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return text + solvers.CODE_OPEN if tools else text

    def sample(self, prompts: Sequence[str], *, n: int, seed: int, stop: tuple[str, ...],
               greedy: bool) -> list[list[str]]:
        """n continuations per text (temperature 0 when greedy)."""
        from kit.llm.sampling import SamplingConfig

        config = SamplingConfig(temperature=0.0 if greedy else self.temperature, seed=seed, n=n,
                                max_new_tokens=self.max_new_tokens, stop=stop)
        return self.engine.sample(list(prompts), config, batch_size=self.batch_size)


class PoolTools:
    """`solvers.Session` factory over the hostile-safe tool pool: each attempt gets its own session."""

    def __init__(self, seconds: float) -> None:
        from kit.packs.aimo.sandbox import SandboxConfig, ToolPool

        self.pool = ToolPool(SandboxConfig(wall_s=seconds))

    def __call__(self) -> solvers.Session:
        """A fresh session whose `run` gives the output text the model sees."""
        session = self.pool.session()

        class _Run:
            def run(self, code: str) -> str:
                return session.run(code).feedback()

        return _Run()


MARKERS = {"competition": "test.csv", "wheels": "manifest.json", "model": "config.json"}


def find_inputs(sources: Mapping[str, str], input_dir: str | os.PathLike) -> dict[str, Path]:
    """{name: folder} of the attached sources under either Kaggle layout (empty refs skipped); one InputError
    naming a missing one."""
    from kit.kernel.inputs import check_sources, resolve_all

    parsed = check_sources(sources)
    return resolve_all({name: ref.text for name, ref in parsed.items()},
                       {name: MARKERS[name] for name in parsed if name in MARKERS}, input_dir)


def model_path(path: str | os.PathLike | None) -> Path:
    """The mounted model folder, or the kit's embedded instruct model when none is attached (rehearsals)."""
    if path is None or not str(path).strip():
        from kit.assets import instruct_model_path

        return instruct_model_path()
    return Path(path)


def settings_of(params: Any) -> solvers.RecipeSettings:
    """The recipe's limits from the kernel's parameters."""
    return solvers.RecipeSettings(attempts=params.attempts, wave=params.wave, agree=params.agree,
                                  tool_rounds=params.tool_rounds, answer_min=params.answer_min,
                                  answer_max=params.answer_max, answer_lead=ANSWER_LEAD)


def make_solve(params: Any, model: Callable[[], Any], tools: Callable[[], Callable[[], solvers.Session]] | None,
               log: list[dict[str, Any]]) -> Callable[[dict[str, Any], Deadline], int | None]:
    """`solve(row, deadline)` for serve_predict: the recipe `params.template` on the row's problem. `model()` and
    `tools()` build (once) the model adapter and the session factory; `log` gets one entry per problem."""
    settings = settings_of(params)

    def solve(row: dict[str, Any], deadline: Deadline) -> int | None:
        began = time.monotonic()
        m = model()
        prompt = m.prompt(str(row["problem"]), tools=params.template.startswith("tir"))
        if params.template == "greedy":
            sol = solvers.greedy(prompt, m, deadline, settings)
        elif params.template == "vote":
            sol = solvers.sample_vote(prompt, m, deadline, settings)
        elif params.template == "tir":
            sol = solvers.tir(prompt, m, tools(), deadline, settings)
        else:
            sol = solvers.tir_vote(prompt, m, tools(), deadline, settings)
        log.append({"id": str(row.get("id")), "answer": sol.answer, "answers": sol.answers,
                    "generations": sol.generations, "tool_calls": sol.tool_calls,
                    "stopped_early": sol.stopped_early, "out_of_time": sol.out_of_time,
                    "seconds": round(time.monotonic() - began, 3)})
        return sol.answer

    return solve


def load_model(params: Any, model_dir: str | os.PathLike | None) -> EngineModel:
    """The Engine on the mounted (or embedded) model, as the recipes' model (imports torch: first problem only)."""
    import torch

    from kit.llm.engine import Engine

    if params.cpu_threads and not torch.cuda.is_available():  # few threads: spin-waiting ones slow a busy CPU
        torch.set_num_threads(params.cpu_threads)
    return EngineModel(Engine(model_path(model_dir)), params.max_new_tokens, params.temperature, params.batch_size)


def build_predict(params: Any, model_dir: str | os.PathLike | None, started_at: float) -> Callable:
    """The `predict` to hand to the inference server, for a notebook's params; the model loads on first use."""
    lazy_model = Lazy(lambda: load_model(params, model_dir))
    lazy_tools = Lazy(lambda: PoolTools(params.tool_seconds))
    log: list[dict[str, Any]] = []
    budget = CallBudget(budget_seconds=params.budget_seconds, expected_rows=params.problems,
                        margin_seconds=params.margin_seconds, per_call_seconds=params.per_call_seconds,
                        first_call_exempt=params.first_call_exempt)
    solve = make_solve(params, lazy_model.get, lazy_tools.get, log)
    predict = serve_predict(solve, row_id_column="id", target_column="answer", fallback=params.answer_min,
                            budget=budget, started_at=started_at)
    predict.problems = log  # type: ignore[attr-defined]  # per-problem recipe stats, for the notebook's last cell
    return predict
