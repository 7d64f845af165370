"""What a snippet run gives back: a typed result whose text is always safe to put in front of the model.

"Safe" means bounded (a head and a tail of each stream, the rest counted), valid text (undecodable bytes replaced,
terminal escapes and control characters removed) and unable to pose as chat structure: special-token look-alikes
such as `<|im_end|>` or `<|start|>` are split with a space, because serving stacks tokenize special-token strings
found in plain text as the real control tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TOKEN_LOOKALIKE = re.compile(r"<(\||｜)|(\||｜)>")  # ASCII and full-width bars (DeepSeek's tokens)


def sanitize(data: bytes) -> str:
    """Bytes a snippet wrote, as text fit to show the model."""
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", _ANSI.sub("", text))
    return _TOKEN_LOOKALIKE.sub(lambda m: f"< {m.group(1)}" if m.group(1) else f"{m.group(2)} >", text)


class StreamTail:
    """One output stream as it arrives: the first `keep // 4` bytes, the last `keep - keep // 4`, and the total."""

    def __init__(self, keep: int) -> None:
        self.head_size = keep // 4
        self.tail_size = keep - self.head_size
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        """Take the next chunk of the stream."""
        self.total += len(data)
        room = self.head_size - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        self.tail += data
        if len(self.tail) > 2 * self.tail_size:  # trim in batches: slicing per chunk would be quadratic
            del self.tail[:-self.tail_size]

    @property
    def dropped(self) -> int:
        """Bytes written but not kept."""
        return self.total - len(self.head) - min(len(self.tail), self.tail_size)

    def text(self) -> str:
        """The kept bytes as safe text, with one marker line where bytes were dropped."""
        tail = bytes(self.tail[-self.tail_size:]) if self.tail_size else b""
        if not self.dropped:
            return sanitize(bytes(self.head) + tail)
        return f"{sanitize(bytes(self.head))}\n[... {self.dropped} bytes not shown ...]\n{sanitize(tail)}"


@dataclass(frozen=True)
class ToolResult:
    """The outcome of one snippet run.

    exit_code: the snippet's exit status; negative for a signal (as subprocess reports it); None when the run was
        stopped from outside (a limit) or the sandbox could not start it.
    killed: "" or why the run was stopped: a wall-clock, CPU-time, process or output limit, or a signal.
    timed_out: the wall-clock limit stopped it.
    stdout_bytes / stderr_bytes: everything the snippet wrote, kept or not.
    isolated: it ran in fresh user, mount, pid and network namespaces.
    notice: "" or the plain line saying what protection was missing (no isolation, a step that failed).
    cpu_s: CPU seconds used by the snippet's processes (0.0 when the run was stopped from outside).
    """

    stdout: str
    stderr: str
    exit_code: int | None
    killed: str
    timed_out: bool
    stdout_bytes: int
    stderr_bytes: int
    isolated: bool
    notice: str
    wall_s: float
    cpu_s: float

    @property
    def ok(self) -> bool:
        """The snippet ran to the end and exited with status 0."""
        return self.exit_code == 0 and not self.killed

    def feedback(self) -> str:
        """The text handed back to the model: its output, then one bracketed line per thing that went wrong."""
        parts = [self.stdout.rstrip("\n")] if self.stdout.strip() else []
        if self.stderr.strip():
            parts.append(self.stderr.rstrip("\n"))
        if self.killed:
            parts.append(f"[stopped: {self.killed}]")
        elif self.exit_code not in (0, None):
            parts.append(f"[exit status {self.exit_code}]")
        if not parts:
            parts.append("[no output]")
        return "\n".join(parts)
