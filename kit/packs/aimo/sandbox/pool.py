"""Several attempts running snippets at once, and one attempt's cells carried across its rounds.

Each snippet is its own process (runner.py), so the pool is only a bound on how many run at a time: threads
that start them and wait. A session keeps state across rounds the simple honest way: it replays the cells that
succeeded before the new one, silently, in the same fresh process, so nothing survives between runs but code.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from kit.packs.aimo.sandbox.config import SandboxConfig
from kit.packs.aimo.sandbox.result import ToolResult
from kit.packs.aimo.sandbox.runner import Plan, plan_for, run_cells


class ToolPool:
    """Runs snippets under one `SandboxConfig`, at most `workers` at a time. Use as a context manager."""

    def __init__(self, config: SandboxConfig, workers: int = 4) -> None:
        self.config = config
        self.plan: Plan = plan_for(config)  # probed here, once, so the first snippet pays nothing extra
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aimo-tool")

    def submit(self, cells: str | Sequence[str]) -> Future[ToolResult]:
        """Start a run of one snippet (a string) or of cells to replay followed by a snippet."""
        cells = [cells] if isinstance(cells, str) else list(cells)
        return self._executor.submit(run_cells, cells, self.config, self.plan)

    def run(self, cells: str | Sequence[str]) -> ToolResult:
        """Run and wait."""
        return self.submit(cells).result()

    def session(self) -> ToolSession:
        """A fresh session on this pool."""
        return ToolSession(self)

    def close(self) -> None:
        """Wait for running snippets (each ends by its wall-clock limit at the latest) and stop the threads."""
        self._executor.shutdown(wait=True)

    def __enter__(self) -> ToolPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class ToolSession:
    """One attempt's tool calls: each sees the definitions of the earlier ones that succeeded."""

    def __init__(self, pool: ToolPool) -> None:
        self.pool = pool
        self.cells: list[str] = []

    def run(self, code: str) -> ToolResult:
        """Run `code` after silently replaying the cells kept so far; keep it when it succeeds."""
        result = self.pool.run([*self.cells, code])
        if result.ok:
            self.cells.append(code)
        return result
