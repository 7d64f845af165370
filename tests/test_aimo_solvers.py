"""The AIMO recipes' control flow (kit/packs/aimo/solvers.py) with deterministic stand-ins for the model and the
tool pool: our own logic, so no model is needed. A real-model run is in test_aimo_pack.py (slow)."""

from __future__ import annotations

from collections.abc import Sequence

from kit.packs.aimo import solvers
from kit.packs.aimo.solvers import CODE_CLOSE, RecipeSettings


class Script:
    """A model that answers from a list of completions in order, recording every call."""

    def __init__(self, completions: Sequence[str]) -> None:
        self.completions = list(completions)
        self.calls: list[dict] = []

    def sample(self, prompts, *, n, seed, stop, greedy):
        self.calls.append({"prompts": list(prompts), "n": n, "seed": seed, "stop": stop, "greedy": greedy})
        width = 1 if len(prompts) > 1 else n
        return [[self.completions.pop(0) for _ in range(width)] for _ in prompts]


class Never:
    def expired(self) -> bool:
        return False


class After:
    """A deadline that expires after `checks` looks at it."""

    def __init__(self, checks: int) -> None:
        self.checks = checks

    def expired(self) -> bool:
        self.checks -= 1
        return self.checks < 0


class Echo:
    """A tool session that 'runs' code by reporting its length, and records what it was given."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    def run(self, code: str) -> str:
        self.ran.append(code)
        return f"ran {len(code)} chars"


def boxed(n: int) -> str:
    return f"so the answer is \\boxed{{{n}}}"


def test_greedy_makes_one_greedy_call_and_reads_the_last_box():
    model = Script(["first \\boxed{3} then " + boxed(7)])
    sol = solvers.greedy("p", model, Never(), RecipeSettings())
    assert sol.answer == 7 and model.calls[0]["greedy"] and model.calls[0]["n"] == 1


def test_answers_outside_the_editions_range_do_not_count():
    sol = solvers.greedy("p", Script([boxed(1234)]), Never(), RecipeSettings(answer_max=999))
    assert sol.answer is None


def test_vote_stops_once_k_agree_and_samples_waves_from_one_prompt():
    model = Script([boxed(5), boxed(5), boxed(9), boxed(2), boxed(5), boxed(1), boxed(1), boxed(1)])
    sol = solvers.sample_vote("p", model, Never(), RecipeSettings(attempts=8, wave=2, agree=3))
    assert sol.answer == 5 and sol.stopped_early
    assert len(sol.answers) == 6 and sol.generations == 3  # three waves of two, the third gave the third 5
    assert [c["n"] for c in model.calls] == [2, 2, 2] and len({c["seed"] for c in model.calls}) == 3
    assert all(c["prompts"] == ["p"] for c in model.calls)


def test_vote_runs_every_attempt_when_nothing_is_decided():
    model = Script([boxed(i) for i in range(4)])
    sol = solvers.sample_vote("p", model, Never(), RecipeSettings(attempts=4, wave=2, agree=3))
    assert len(sol.answers) == 4 and not sol.stopped_early and sol.answer == 0  # a tie: the smaller answer


def test_vote_returns_the_leader_so_far_when_the_deadline_passes():
    model = Script([boxed(8), boxed(8), boxed(3), boxed(4)])
    sol = solvers.sample_vote("p", model, After(1), RecipeSettings(attempts=8, wave=2, agree=3))
    assert sol.out_of_time and sol.answer == 8 and len(model.calls) == 1


def test_vote_out_of_time_before_any_attempt_gives_none():
    sol = solvers.sample_vote("p", Script([]), After(0), RecipeSettings())
    assert sol.out_of_time and sol.answer is None


def test_tir_runs_the_closed_code_block_and_feeds_its_output_back():
    first = "Let me compute.\n```python\nprint(6 * 7)"  # the stop string (the closing fence) was trimmed
    model = Script([first, "The output says 42. " + boxed(42)])
    session = Echo()
    sol = solvers.tir("PROMPT", model, lambda: session, Never(), RecipeSettings(tool_rounds=3))
    assert session.ran == ["print(6 * 7)"] and sol.tool_calls == 1 and sol.answer == 42
    continued = model.calls[1]["prompts"][0]
    assert continued.startswith("PROMPT" + first + CODE_CLOSE) and "```output\nran 12 chars\n```" in continued
    assert model.calls[0]["stop"] == (CODE_CLOSE,)


def test_tir_rounds_are_bounded_and_the_last_round_has_no_stop():
    code = "x\n```python\nprint(1)"
    model = Script([code, code, code, "done " + boxed(1)])
    session = Echo()
    sol = solvers.tir("p", model, lambda: session, Never(), RecipeSettings(tool_rounds=3))
    assert sol.tool_calls == 3 and len(session.ran) == 3 and sol.answer == 1
    assert model.calls[-1]["stop"] == () and len(model.calls) == 4


def test_tir_with_zero_rounds_runs_no_code():
    session = Echo()
    sol = solvers.tir("p", Script(["```python\nprint(1)"]), lambda: session, Never(), RecipeSettings(tool_rounds=0))
    assert session.ran == [] and sol.tool_calls == 0 and sol.answer is None


def test_tir_stops_between_rounds_when_the_deadline_passes():
    session = Echo()
    model = Script(["```python\nprint(1)"])
    sol = solvers.tir("p", model, lambda: session, After(1), RecipeSettings(tool_rounds=3))
    assert sol.out_of_time and session.ran == [] and len(model.calls) == 1


def test_tir_vote_gives_each_attempt_its_own_session_and_continues_only_paused_ones():
    sessions: list[Echo] = []

    def factory() -> Echo:
        sessions.append(Echo())
        return sessions[-1]

    model = Script(["```python\nprint(2)", boxed(4), "and " + boxed(4)])  # wave of 2: one pauses at code
    sol = solvers.tir_vote("p", model, factory, Never(), RecipeSettings(attempts=2, wave=2, agree=2, tool_rounds=2))
    assert sol.answer == 4 and sol.answers == [4, 4]
    assert [s.ran for s in sessions] == [["print(2)"], []]
    assert model.calls[0]["n"] == 2 and len(model.calls[1]["prompts"]) == 1


def test_pending_code_needs_an_open_block():
    assert solvers.pending_code("a\n```python\nx = 1") == "x = 1"
    assert solvers.pending_code("a\n```python\nx = 1\n```\nmore") is None
    assert solvers.pending_code("no code") is None


def test_a_prompt_that_opens_a_code_block_makes_the_attempt_start_in_code():
    """Code first: the adapter's prompt ends with the fence; the fence is part of the attempt's text, so the block
    runs, and the continuation goes on from the prompt without the fence twice."""
    model = Script(["print(6 * 7)", "42}$."])
    session = Echo()
    settings = RecipeSettings(tool_rounds=1, answer_lead="The answer is $\\boxed{")
    sol = solvers.tir("PROMPT" + solvers.CODE_OPEN, model, lambda: session, Never(), settings)
    assert session.ran == ["print(6 * 7)"] and sol.answer == 42
    continued = model.calls[1]["prompts"][0]
    assert continued.startswith("PROMPT" + solvers.CODE_OPEN + "print(6 * 7)" + CODE_CLOSE)
    assert continued.count(solvers.CODE_OPEN) == 1 and continued.endswith("```\nThe answer is $\\boxed{")


def test_a_failed_tool_run_gets_no_answer_lead():
    class Failing(Echo):
        def run(self, code: str) -> str:
            super().run(code)
            return "Traceback ...\nNameError: name 'x' is not defined\n[exit status 1]"

    model = Script(["```python\nprint(x)", "I cannot tell."])
    sol = solvers.tir("p", model, Failing, Never(), RecipeSettings(tool_rounds=1, answer_lead="LEAD"))
    assert sol.answer is None and not model.calls[1]["prompts"][0].endswith("LEAD")
    assert solvers.tool_failed("[no output]") and solvers.tool_failed("x\n[stopped: CPU-time limit of 1 s]")
    assert not solvers.tool_failed("42")
