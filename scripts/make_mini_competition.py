#!/usr/bin/env python3
"""Build the local mini-competition (kit/packs/prompt_recovery/data/mini/) with `kit make-data` and the embedded
instruct model.

The originals and prompts of scripts/mini_sources.py (written for this project) are written to the mini-competition's
sources/ folder; the originals are split by a seed into training and test originals (no test original
appears in training); each original is paired with `--per-original` prompts by make-data's seeded pairing; the
rewriter (SmolLM2-135M-Instruct, greedy, capped new tokens) writes every rewrite. The test rows become
test.csv / test_labels.csv / sample_submission.csv in the competition's format. Resumable: rerunning keeps
every finished row (make-data appends what is missing).

Usage (the exact command behind the shipped files):
    .venv/bin/python scripts/make_mini_competition.py
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mini_sources import ORIGINALS, PROMPTS  # noqa: E402

from kit.packs.prompt_recovery.make_data import MakeDataConfig, make_data  # noqa: E402
from kit.tables import read_rows, write_rows  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# relative to the repository root: the sidecars record these paths
OUT = Path("kit") / "packs" / "prompt_recovery" / "data" / "mini"
SPLIT_SEED = 12
SAMPLE_PROMPT = "Improve this text."


def write_lines(path: Path, lines: tuple[str, ...] | list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--test-originals", type=int, default=50)
    parser.add_argument("--per-original", type=int, default=2)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--train-rows", type=int, default=0, help="cap on training rows (0: every pair)")
    parser.add_argument("--model", default="", help="rewriter folder (default: the embedded instruct model)")
    args = parser.parse_args()
    os.chdir(ROOT)

    originals = list(ORIGINALS)
    random.Random(SPLIT_SEED).shuffle(originals)
    test_originals, train_originals = originals[:args.test_originals], originals[args.test_originals:]
    src = args.out / "sources"
    prompts = write_lines(src / "prompts.txt", PROMPTS)
    splits = {"train": write_lines(src / "train_originals.txt", train_originals),
              "test": write_lines(src / "test_originals.txt", test_originals)}
    made = {split: src / f"{split}_rows.csv" for split in ("test", "train")}  # test first: it matters most
    for split, seed, limit in (("test", 2, 0), ("train", 1, args.train_rows)):
        result = make_data(MakeDataConfig(originals=str(splits[split]), prompts=str(prompts), out=str(made[split]),
                                          model=args.model, per_original=args.per_original, seed=seed, limit=limit,
                                          max_new_tokens=args.max_new_tokens, batch_size=args.batch_size))
        print(f"{split}: {result.made} made, {result.already_done} already there, {result.empty} empty",
              file=sys.stderr)
    columns = ("id", "original_text", "rewrite_prompt", "rewritten_text")
    train = read_rows(made["train"], required=columns)
    test = read_rows(made["test"], required=columns)
    write_rows(args.out / "train.csv", train, columns)
    write_rows(args.out / "test.csv", test, ("id", "original_text", "rewritten_text"))
    write_rows(args.out / "test_labels.csv", test, ("id", "rewrite_prompt"))
    write_rows(args.out / "sample_submission.csv", ({"id": r["id"], "rewrite_prompt": SAMPLE_PROMPT} for r in test),
               ("id", "rewrite_prompt"))
    print(f"wrote {args.out}: train.csv {len(train)} rows, test.csv {len(test)} rows")


if __name__ == "__main__":
    main()
