"""The kit's one polling loop: ask until the answer is final, backing off, under an overall timeout.

Used for what the client side waits on: a dataset version becoming READY, a kernel run, a submission's score,
the sandbox emulator starting and stopping (the emulator's own log stream, server side, ends with the kernel
run). tenacity is the engine (its retry-on-result mode); progress output and the error a timeout becomes stay with
the callers, which know what they wait for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class PollTimeout(Exception):
    """The overall timeout passed before the answer was final; `last` is the last answer, `elapsed` seconds."""

    def __init__(self, last: Any, elapsed: float) -> None:
        super().__init__(f"still {last!r} after {elapsed:.1f} s")
        self.last, self.elapsed = last, elapsed


def poll_until(probe: Callable[[], T], done: Callable[[T], bool] = bool, *, timeout: float, interval: float,
               backoff: float = 1.0, max_interval: float | None = None,
               on_answer: Callable[[T, float], None] | None = None,
               sleep: Callable[[float], None] | None = None) -> T:
    """Call `probe` until `done(answer)`, and return that answer.

    Between calls it sleeps `interval` seconds, multiplied by `backoff` after each call up to `max_interval`,
    and never past the deadline: the last call is made at the deadline, after which PollTimeout carries the last
    answer. An exception from `probe` ends the loop and propagates. `on_answer(answer, elapsed)` sees every
    answer (progress lines, a status bar)."""
    from tenacity import Retrying, retry_if_result, stop_after_delay

    if timeout < 0 or interval <= 0 or backoff < 1:
        raise ValueError("poll_until needs timeout >= 0, interval > 0 and backoff >= 1")

    def wait(state: Any) -> float:
        step = interval * backoff ** (state.attempt_number - 1)
        if max_interval is not None:
            step = min(step, max_interval)
        return max(0.0, min(step, timeout - state.seconds_since_start))

    def timed_out(state: Any) -> T:
        raise PollTimeout(state.outcome.result(), state.seconds_since_start)

    retrying = Retrying(retry=retry_if_result(lambda answer: not done(answer)), stop=stop_after_delay(timeout),
                        wait=wait, retry_error_callback=timed_out, **({"sleep": sleep} if sleep else {}))

    started = time.monotonic()

    def attempt() -> T:
        answer = probe()
        if on_answer is not None:
            on_answer(answer, time.monotonic() - started)
        return answer

    return retrying(attempt)
