"""The recipes' control flow: greedy, vote, tir and tir-vote over any model and tool runner (stdlib only).

A recipe sees the model as `Model.sample(prompts, n=, seed=, stop=, greedy=)` (n continuations of each text; the
kernel's adapter puts the kit's Engine behind it, one prefill per prompt) and code as `Tools.session()` (the
hostile-safe pool). Everything here is our own logic, so the tests drive it with small deterministic stand-ins.

- greedy: one most-likely attempt.
- vote: up to `attempts` sampled attempts in waves of `wave` (one prefill each); majority over the extracted
  integers; stop once `agree` attempts agree or the rest could not change the vote.
- tir: tool-integrated reasoning: when the model closes a ```python block, the block runs in the tool pool and
  its output goes back into the text as an ```output block; at most `tool_rounds` blocks, then the model must
  answer.
- tir-vote: tir attempts in waves, voted like `vote`.

The deadline is checked before every generation step (a step itself is not interrupted): when it has passed, the
answer so far (the vote's leader, or None for the fallback) is returned and `Solution.out_of_time` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kit.packs.aimo.answers import extract_answer
from kit.packs.aimo.voting import early_stop, settled, vote

CODE_OPEN = "```python\n"
CODE_CLOSE = "\n```"  # the stop string: generation pauses when a code block closes
OUTPUT_BLOCK = "\n```output\n{output}\n```\n"
# How the tool pool's feedback says a run went wrong (kit.packs.aimo.sandbox.result.ToolResult.feedback): its
# last line is one of these.
TOOL_FAILED = ("[stopped:", "[exit status", "[no output]")


class Model(Protocol):
    """n continuations of each text (greedy: the most likely one, n ignored)."""

    def sample(self, prompts: Sequence[str], *, n: int, seed: int, stop: tuple[str, ...],
               greedy: bool) -> list[list[str]]: ...


class Session(Protocol):
    """One attempt's code runs (state carried across its blocks)."""

    def run(self, code: str) -> str: ...


class Clock(Protocol):
    """What the recipes check between steps (kit.kernel.serving.Deadline fits)."""

    def expired(self) -> bool: ...


@dataclass(frozen=True)
class RecipeSettings:
    """How much work one problem may take, and what a valid answer is."""

    attempts: int = 8
    wave: int = 4
    agree: int = 3
    tool_rounds: int = 3
    answer_min: int = 0
    answer_max: int = 99999
    seed: int = 0
    # Text put after the output of a tool-integrated attempt's last code block when it ran cleanly, before the model
    # goes on (e.g. "The answer is $\\boxed{"): a small model then states what its program printed instead of
    # rambling. Empty: the model goes on from the output alone. A failed run gets no lead (it would force a guess).
    answer_lead: str = ""


@dataclass
class Solution:
    """What a recipe did for one problem: the answer (None: use the fallback) and how it got there."""

    answer: int | None = None
    answers: list[int | None] = field(default_factory=list)  # one per finished attempt
    generations: int = 0  # model calls made
    tool_calls: int = 0
    stopped_early: bool = False  # the vote was decided before every planned attempt ran
    out_of_time: bool = False  # the deadline stopped further attempts or rounds


def valid(answer: int | None, settings: RecipeSettings) -> int | None:
    """`answer` when it lies within the edition's range, else None (it would not count as a vote)."""
    return answer if answer is not None and settings.answer_min <= answer <= settings.answer_max else None


def pending_code(segment: str) -> str | None:
    """The code of a ```python block the segment opened and the stop string closed (its text ends inside it)."""
    start = segment.rfind(CODE_OPEN)
    if start < 0 or "```" in segment[start + len(CODE_OPEN):]:
        return None
    return segment[start + len(CODE_OPEN):]


def greedy(prompt: str, model: Model, deadline: Clock, settings: RecipeSettings) -> Solution:
    """One most-likely attempt, no tools."""
    sol = Solution()
    if deadline.expired():
        sol.out_of_time = True
        return sol
    text = model.sample([prompt], n=1, seed=settings.seed, stop=(), greedy=True)[0][0]
    sol.generations, sol.answers = 1, [valid(extract_answer(text), settings)]
    sol.answer = sol.answers[0]
    return sol


def _decided(sol: Solution, settings: RecipeSettings) -> bool:
    """True once `agree` attempts agree or the remaining attempts cannot change the vote."""
    return (early_stop(sol.answers, settings.agree) is not None
            or settled(sol.answers, settings.attempts) is not None)


def _voted(prompt: str, deadline: Clock, settings: RecipeSettings,
           run_wave: Callable[[int, int, Solution], list[str]]) -> Solution:
    """Waves of attempts (`run_wave(size, seed, sol)` gives their final texts) until decided, planned or late."""
    sol = Solution()
    wave_no = 0
    while len(sol.answers) < settings.attempts:
        if deadline.expired():
            sol.out_of_time = True
            break
        size = min(settings.wave, settings.attempts - len(sol.answers))
        texts = run_wave(size, settings.seed + wave_no, sol)  # each wave its own seed: new samples
        wave_no += 1
        sol.answers += [valid(extract_answer(t), settings) for t in texts]
        if len(sol.answers) < settings.attempts and _decided(sol, settings):
            sol.stopped_early = True
            break
    sol.answer = vote(sol.answers).answer
    return sol


def sample_vote(prompt: str, model: Model, deadline: Clock, settings: RecipeSettings) -> Solution:
    """Sampled attempts without tools, voted."""

    def run_wave(size: int, seed: int, sol: Solution) -> list[str]:
        sol.generations += 1
        return model.sample([prompt], n=size, seed=seed, stop=(), greedy=False)[0]

    return _voted(prompt, deadline, settings, run_wave)


def tool_failed(output: str) -> bool:
    """True when the tool pool's feedback says the code did not run cleanly (an error, a limit, nothing printed)."""
    return output.rstrip().rsplit("\n", 1)[-1].startswith(TOOL_FAILED)


def _tir_wave(prompt: str, model: Model, tools: Callable[[], Session], deadline: Clock, settings: RecipeSettings,
              size: int, seed: int, sol: Solution, greedy_first: bool = False) -> list[str]:
    """`size` tool-integrated attempts side by side; their texts after the prompt. The first step samples all
    of them from one prefill; later steps continue each attempt that paused at a closed code block. A prompt that
    ends by opening a code block (the model adapter's choice: code first) makes that opening part of each text."""
    opened = CODE_OPEN if prompt.endswith(CODE_OPEN) else ""
    base = prompt[:len(prompt) - len(opened)]
    texts = [opened + t for t in model.sample([prompt], n=size, seed=seed, stop=(CODE_CLOSE,),
                                              greedy=greedy_first)[0]]
    sol.generations += 1
    sessions = [tools() for _ in texts]
    done = [pending_code(t) is None for t in texts]
    for round_no in range(settings.tool_rounds):
        if all(done):
            break
        if deadline.expired():
            sol.out_of_time = True
            break
        active = [i for i, d in enumerate(done) if not d]
        last = round_no == settings.tool_rounds - 1  # no more tools: let the attempt run to its answer
        for i in active:
            code = pending_code(texts[i]) or ""
            sol.tool_calls += 1
            output = sessions[i].run(code).strip()
            texts[i] += CODE_CLOSE + OUTPUT_BLOCK.format(output=output)
            if last and not tool_failed(output):
                texts[i] += settings.answer_lead
        stop = () if last else (CODE_CLOSE,)
        more = model.sample([base + texts[i] for i in active], n=1, seed=seed + 1000 * (round_no + 1), stop=stop,
                            greedy=greedy_first)
        sol.generations += 1
        for i, cont in zip(active, more, strict=True):
            texts[i] += cont[0]
            done[i] = last or pending_code(cont[0]) is None
    return texts


def tir(prompt: str, model: Model, tools: Callable[[], Session], deadline: Clock,
        settings: RecipeSettings) -> Solution:
    """One greedy tool-integrated attempt."""
    sol = Solution()
    if deadline.expired():
        sol.out_of_time = True
        return sol
    text = _tir_wave(prompt, model, tools, deadline, settings, 1, settings.seed, sol, greedy_first=True)[0]
    sol.answers = [valid(extract_answer(text), settings)]
    sol.answer = sol.answers[0]
    return sol


def tir_vote(prompt: str, model: Model, tools: Callable[[], Session], deadline: Clock,
             settings: RecipeSettings) -> Solution:
    """Sampled tool-integrated attempts in waves, voted."""

    def run_wave(size: int, seed: int, sol: Solution) -> list[str]:
        return _tir_wave(prompt, model, tools, deadline, settings, size, seed, sol)

    return _voted(prompt, deadline, settings, run_wave)
