"""Benchmark: median wall time of `kit --help` over repeated runs (target <= 0.3 s).

Usage: python scripts/bench_cli.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    exe = shutil.which("kit") or str(Path(sys.executable).parent / "kit")
    subprocess.run([exe, "--help"], check=True, capture_output=True)  # warm the file cache
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run([exe, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    print(f"runs={args.runs} min={min(times):.3f}s max={max(times):.3f}s")
    print(f"kit --help median wall time: {statistics.median(times):.3f} s (target <= 0.3 s)")


if __name__ == "__main__":
    main()
