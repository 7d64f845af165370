"""Time guard under pressure, through the real notebook (papermill, `kit run-local`).

1. SIGKILL: run the notebook with slowed generation, kill its kernel process mid-run, and check that
   submission.csv still holds every test id with a non-empty prompt.
2. Budget: a 20 s budget (margin 0) with generation slowed to --slow seconds per row. The guard's run (first
   cell to timing report) must end within 22 s, every test id must be in submission.csv with a non-empty
   prompt, and the report must show fallback rows > 0. The result is printed LAST.

    .venv/bin/python scripts/bench_guard.py [--budget 20] [--slow 1.0] [--skip-kill]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _submission(path: Path) -> dict[str, str]:
    from kit.tables import read_rows

    return {r["id"]: r["rewrite_prompt"] for r in read_rows(path, required=("id", "rewrite_prompt"))}


def _test_ids() -> list[str]:
    from kit.packs.prompt_recovery.kernel import load_rows
    from kit.packs.prompt_recovery.samples import sample_data_dir

    return [r["id"] for r in load_rows(sample_data_dir())]


def _kernel_pid(cwd: Path) -> int | None:
    """The ipykernel process whose working directory is `cwd` (the notebook's /kaggle/working)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes()
            if b"ipykernel_launcher" in cmd and Path(os.readlink(entry / "cwd")) == cwd:
                return int(entry.name)
        except OSError:
            continue
    return None


def _kit(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kit", "run-local", *args], env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def kill_check(work: Path, slow: float) -> str:
    """Kill the kernel after the first prediction chunk landed; every id must still be there."""
    out = (work / "kill").resolve()
    proc = _kit(["--template", "fewshot", "--budget", "600", "--margin", "0", "--batch-size", "2",
                 "--max-new-tokens", "6", "--out", str(out)], {"KIT_SLOW_GENERATION_S": str(slow)})
    sub, deadline, first_mtime, pid = out / "submission.csv", time.time() + 240, None, None
    while time.time() < deadline and proc.poll() is None:
        if sub.exists():
            first_mtime = first_mtime or sub.stat().st_mtime_ns
            if sub.stat().st_mtime_ns != first_mtime:  # predictions are replacing the fallback
                pid = _kernel_pid(out)
                break
        time.sleep(0.1)
    if pid is None:
        proc.kill()
        return "kill check: FAILED (never saw the kernel writing predictions)"
    time.sleep(slow * 1.5)  # land somewhere in the middle of the next chunk
    os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=120)
    values, ids = _submission(sub), _test_ids()
    ok = list(values) == ids and all(v.strip() for v in values.values())
    return (f"kill check: kernel {pid} SIGKILLed mid-run, kit exited {proc.returncode}; submission.csv has "
            f"{len(values)}/{len(ids)} ids, all non-empty: {ok} -> {'PASS' if ok else 'FAIL'}")


def budget_check(work: Path, budget: int, slow: float) -> str:
    out = (work / "budget").resolve()
    started = time.time()
    proc = _kit(["--template", "best", "--budget", str(budget), "--margin", "0", "--batch-size", "4",
                 "--max-new-tokens", "8", "--out", str(out)], {"KIT_SLOW_GENERATION_S": str(slow)})
    log, _ = proc.communicate(timeout=600)
    wall = time.time() - started
    if proc.returncode != 0:
        return f"budget check: FAIL (kit run-local exited {proc.returncode})\n{log[-2000:]}"
    report = json.loads((out / "timing_report.json").read_text())
    values, ids = _submission(out / "submission.csv"), _test_ids()
    complete = list(values) == ids and all(v.strip() for v in values.values())
    ok = report["elapsed_seconds"] <= budget + 2 and complete and report["fallback_rows"] > 0
    print(f"papermill wall (kernel start + notebook + scoring): {wall:.1f}s; rows_per_pass "
          f"{report['rows_per_pass']}, unreached {report['unreached_rows']}, deadline_hit {report['deadline_hit']}")
    return (f"budget check: budget {budget}s, guard run {report['elapsed_seconds']:.1f}s (limit {budget + 2}s), "
            f"{len(values)}/{len(ids)} ids non-empty: {complete}, fallback rows {report['fallback_rows']} -> "
            f"{'PASS' if ok else 'FAIL'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=20)
    parser.add_argument("--slow", type=float, default=1.0, help="extra seconds per generated row")
    parser.add_argument("--skip-kill", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-guard-") as tmp:
        if not args.skip_kill:
            print(kill_check(Path(tmp), args.slow))
        print(budget_check(Path(tmp), args.budget, args.slow))


if __name__ == "__main__":
    main()
