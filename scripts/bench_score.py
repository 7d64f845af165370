#!/usr/bin/env python3
"""Benchmark: score 1,400 prediction/label pairs with the bundled MiniLM proxy, model load included.

Pairs are built from the bundled sample data by cycling its rows; every prediction and label is made
distinct (so the per-text embedding cache cannot skip work) and predictions look like `best` template output
(candidates + mean prompt + lucrarea suffix, ~60-120 tokens). Target: <= 15 s wall on a 2-core CPU.
The figure is printed last, on one line.
"""

from __future__ import annotations

import argparse
import os
import time

START = time.perf_counter()

from kit.packs.prompt_recovery.metric import load_embedder, score  # noqa: E402
from kit.packs.prompt_recovery.samples import sample_data_dir  # noqa: E402
from kit.packs.prompt_recovery.templates import get_template  # noqa: E402
from kit.tables import read_rows  # noqa: E402


def build_pairs(n: int) -> tuple[dict[str, str], dict[str, str]]:
    """n distinct (prediction, label) pairs keyed by string ids."""
    rows = read_rows(sample_data_dir() / "train.csv", ["id", "original_text", "rewrite_prompt", "rewritten_text"])
    best = get_template("best")
    preds, labels = {}, {}
    for i in range(n):
        row, other = rows[i % len(rows)], rows[(i * 7 + 3) % len(rows)]
        key = f"{i:06x}"
        labels[key] = f"{row['rewrite_prompt']} (version {i // len(rows)})" if i >= len(rows) else row["rewrite_prompt"]
        cands = [other["rewrite_prompt"], f"Rewrite this text number {i} in a new style."]
        preds[key] = best.assemble(cands, row["original_text"], row["rewritten_text"])
    return preds, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1400)
    parser.add_argument("--embedder", default=None, help="model folder (default: the bundled MiniLM proxy)")
    args = parser.parse_args()
    preds, labels = build_pairs(args.rows)
    t_load = time.perf_counter()
    embedder = load_embedder(args.embedder)
    t_encode = time.perf_counter()
    report = score(preds, labels, embedder)
    end = time.perf_counter()
    print(f"rows: {report.n}  mean: {report.mean:.4f}  95% CI: [{report.ci_low:.4f}, {report.ci_high:.4f}]")
    print(f"embedder: {report.embedder}")
    print(f"imports+data: {t_load - START:.1f} s  model load: {t_encode - t_load:.1f} s  "
          f"embed+score: {end - t_encode:.1f} s  process CPU: {time.process_time():.1f} s  "
          f"load average: {os.getloadavg()[0]:.1f} (figures are only meaningful on a quiet machine)")
    print(f"bench_score: {report.n} pairs scored in {end - START:.1f} s wall (model load included; target <= 15 s)")


if __name__ == "__main__":
    main()
