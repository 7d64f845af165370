"""Small helpers shared by test modules (pytest puts tests/ on sys.path)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("torch", "transformers", "peft", "sentence_transformers", "kaggle", "matplotlib")


def run_kit_fresh(argv: list[str], cwd: Path | None = None,
                  watch: tuple[str, ...] = HEAVY) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run `kit ARGV` in a fresh interpreter; return the process and which `watch` modules it imported."""
    code = ("import sys; from kit.cli import run; rc = run(sys.argv[1:]); "
            f"print('HEAVY', [m for m in {watch!r} if m in sys.modules]); sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60, cwd=cwd)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("HEAVY ")), "HEAVY None")
    return out, eval(line[len("HEAVY "):])  # the list literal printed above
