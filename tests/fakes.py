"""A scripted stand-in for the Kaggle client the chain talks to (kit.kaggle.client.ChainClient).

Only the kit's own interface is faked, never the official `kaggle` package; tests/test_client_protocol.py holds
`FakeClient` to `ChainClient` signature by signature, as it holds the real `KaggleClient`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from kit.kaggle.results import KernelPush, LeaderboardEntry, Submission, SubmissionLimits

# pack 1's output (llm-prompt-recovery): the default for its own tests; a parametrized test passes its pack's
PROMPT_RECOVERY_CSV = "id,rewrite_prompt\n1,Make it a poem\n2,\"Rewrite, formally\"\n"


@dataclass
class FakeClient:
    """Answers scripted per call: states pop from their lists (the last one repeats), `calls` records the order.

    `outputs` are the files a finished kernel version leaves ({file name: text or bytes}); the pushed kernel's ref
    is the `id` of the folder's kernel-metadata.json, as Kaggle answers."""

    username: str = "alice"
    sandbox: bool = True
    allowed: int = 5
    dataset_states: list[str] = field(default_factory=list)
    kernel_states: list[str] = field(default_factory=lambda: ["QUEUED", "RUNNING", "COMPLETE"])
    outputs: dict[str, str | bytes] = field(default_factory=lambda: {"submission.csv": PROMPT_RECOVERY_CSV})
    failure: str = ""
    score_states: list[str] = field(default_factory=lambda: ["PENDING", "COMPLETE"])
    interrupt_kernel_polls: int = 0
    fail_submit_after_create: bool = False
    calls: list[str] = field(default_factory=list)
    pushed: int = 0
    subs: dict[int, Submission] = field(default_factory=dict)

    def submission_limits(self, competition: str) -> SubmissionLimits:
        self.calls.append("limits")
        return SubmissionLimits(num_allowed_now=self.allowed, num_today=5 - self.allowed)

    def submissions(self, competition: str) -> list[Submission]:
        self.calls.append("submissions")
        return list(self.subs.values())

    def leaderboard(self, competition: str) -> list[LeaderboardEntry]:
        return [LeaderboardEntry("top team", 0.71, 1), LeaderboardEntry(self.username, 0.6123, 2)]

    def dataset_version(self, ref: str) -> tuple[str, int | None]:
        self.calls.append(f"dataset_status {ref}")
        return (self.dataset_states.pop(0) if self.dataset_states else "ready"), None

    def kernel_push(self, folder: Path, *, timeout: int | None = None) -> KernelPush:
        meta = json.loads((Path(folder) / "kernel-metadata.json").read_text(encoding="utf-8"))
        self.pushed += 1
        self.calls.append("push")
        return KernelPush(meta["id"], self.pushed)

    def kernel_status(self, ref: str, version: int) -> tuple[str, str]:
        self.calls.append(f"status v{version}")
        if self.interrupt_kernel_polls:
            self.interrupt_kernel_polls -= 1
            raise KeyboardInterrupt
        state = self.kernel_states.pop(0) if len(self.kernel_states) > 1 else self.kernel_states[0]
        return state, self.failure if state == "ERROR" else ""

    def kernel_log(self, ref: str, version: int) -> str:
        return '[{"stream_name": "stdout", "data": "loading\\n"}, ' \
               '{"stream_name": "stderr", "data": "Traceback...\\nValueError: boom\\n"}]'

    def kernel_output(self, ref: str, version: int, dest: Path) -> list[Path]:
        dest.mkdir(parents=True, exist_ok=True)
        written = []
        for name, content in self.outputs.items():
            path = dest / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
            written.append(path)
        return written

    def submit_code(self, competition: str, kernel_ref: str, version: int, file_name: str, message: str) -> int:
        self.calls.append(f"submit v{version}")
        ref = 100 + len(self.subs)
        self.subs[ref] = Submission(ref, "PENDING", None, None, "", message, "2026-01-01T00:00:00Z", file_name)
        if self.fail_submit_after_create:
            self.fail_submit_after_create = False
            raise ConnectionError("connection reset after the submission was created")
        return ref

    def get_submission(self, ref: int, *, pending_on_404: bool = False) -> Submission:
        state = self.score_states.pop(0) if len(self.score_states) > 1 else self.score_states[0]
        sub = self.subs[ref]
        sub.status = state
        if state == "COMPLETE":
            sub.public_score, sub.private_score = 0.6123, 0.6001
        if state == "ERROR":
            sub.error = "Submission scoring error"
        return sub
