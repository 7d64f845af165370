"""`kit make-data`: training rows the way competitors made them, by a rewriter model.

A rewriter (the embedded instruct model by default; Gemma for competitors) rewrites each original text with a
rewrite prompt; each result is a Kaggle-format row `id, original_text, rewrite_prompt, rewritten_text`.
Originals and prompts are paired by a seed (a shuffled deck of prompts dealt to the originals, no prompt twice
for one original), or taken as given pairs. Generation is greedy, capped at `max_new_tokens`, and batched
through the inference Engine. The output is rewritten atomically after every chunk, so a killed run keeps
every finished row and a rerun of the same command appends only the rows still missing (ids are a hash of the
pair). The rewriter's prompt format (kit.packs.prompt_recovery.rewriter) and this run's settings go in a JSON sidecar.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kit.config import setting as _f
from kit.errors import ConfigError, InputError
from kit.files import write_json

COLUMNS = ("id", "original_text", "rewrite_prompt", "rewritten_text")


@dataclass
class MakeDataConfig:
    """One make-data run (saved in the output's JSON sidecar)."""

    originals: str = _f("", "Original texts: a .txt file (one text per line) or a CSV with an original_text column.")
    prompts: str = _f("", "Rewrite prompts: a .txt file (one prompt per line) or a CSV with a rewrite_prompt column.")
    pairs: str = _f("", "Given pairs instead of seeded pairing: a CSV with original_text and rewrite_prompt.")
    out: str = _f("rewrites.csv", "Output CSV (Kaggle train format); rows already in it are kept and skipped.")
    model: str = _f("", "Rewriter model folder. Empty: the embedded instruct model.")
    per_original: int = _f(1, "Prompts paired with each original text (seeded pairing; never the same one twice).")
    seed: int = _f(0, "Seed of the pairing.")
    limit: int = _f(0, "Make at most this many pairs (0: all), counting rows already done.")
    max_new_tokens: int = _f(96, "Cap on the rewriter's new tokens per row (a longer rewrite is cut there).")
    batch_size: int = _f(8, "Rows per generation batch.")
    chunk_rows: int = _f(32, "Rows generated between two saves of the output.")
    device: str = _f("", "torch device (empty: cuda when visible, else cpu).")

    def validate(self) -> MakeDataConfig:
        """Check the knobs and that exactly one source of pairs is given; returns self."""
        if self.pairs and (self.originals or self.prompts):
            raise ConfigError("give either pairs, or originals and prompts, not both")
        if not self.pairs and not (self.originals and self.prompts):
            raise ConfigError("make-data needs originals and prompts (or pairs)")
        for name in ("per_original", "max_new_tokens", "batch_size", "chunk_rows"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1 (got {getattr(self, name)})")
        if self.limit < 0:
            raise ConfigError(f"limit must be >= 0 (got {self.limit})")
        return self


@dataclass
class MakeDataResult:
    """What one run did."""

    out: str
    sidecar: str
    pairs: int
    already_done: int
    made: int
    empty: int
    seconds: float
    rows_per_second: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for --json."""
        return asdict(self)


def row_id(original: str, prompt: str) -> str:
    """A stable id for one pair: the same pair gets the same id in every run (what resuming relies on)."""
    return hashlib.sha256(f"{original}\0{prompt}".encode()).hexdigest()[:12]


def read_texts(path: str | Path, column: str) -> list[str]:
    """Non-blank texts from a .txt file (one per line; a blank line is an error) or a CSV's `column`."""
    from kit.tables import read_rows

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    if path.suffix.lower() == ".csv":
        rows = read_rows(path, required=(column,))
        texts = [r[column].strip() for r in rows]
        blank = next((i for i, t in enumerate(texts, start=2) if not t), None)  # line 1 is the header
        where = f"row on line {blank}"
    else:
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        while lines and not lines[-1].strip():  # a trailing newline or two is not a blank entry
            lines.pop()
        texts = [line.strip() for line in lines]
        blank = next((i for i, t in enumerate(texts, start=1) if not t), None)
        where = f"line {blank}"
    if not texts:
        raise InputError(f"{path}: no {column} entries (the file is empty)")
    if blank is not None:
        raise InputError(f"{path}: {where} is blank", hint=f"one {column} per line, no blank lines")
    return texts


def seeded_pairs(originals: list[str], prompts: list[str], per_original: int, seed: int) -> list[tuple[str, str]]:
    """Deal a shuffled deck of prompts to the originals, `per_original` each (reshuffled when it runs out), so
    every prompt is used about equally and no original gets the same prompt twice."""
    rng = random.Random(seed)
    per = min(per_original, len(set(prompts)))
    deck: list[str] = []
    out: list[tuple[str, str]] = []
    for original in originals:
        chosen: list[str] = []
        while len(chosen) < per:
            if not deck:
                deck = list(prompts)
                rng.shuffle(deck)
            prompt = deck.pop()
            if prompt not in chosen:
                chosen.append(prompt)
        out += [(original, p) for p in chosen]
    return out


def load_pairs(cfg: MakeDataConfig) -> list[tuple[str, str]]:
    """The run's (original, prompt) pairs, unique, in a deterministic order."""
    if cfg.pairs:
        from kit.tables import read_rows

        rows = read_rows(cfg.pairs, required=("original_text", "rewrite_prompt"))
        if not rows:
            raise InputError(f"{cfg.pairs}: no pairs (header only)")
        for line, row in enumerate(rows, start=2):
            if not row["original_text"].strip() or not row["rewrite_prompt"].strip():
                raise InputError(f"{cfg.pairs}: row on line {line} has a blank original_text or rewrite_prompt")
        pairs = [(r["original_text"].strip(), r["rewrite_prompt"].strip()) for r in rows]
    else:
        originals = read_texts(cfg.originals, "original_text")
        prompts = read_texts(cfg.prompts, "rewrite_prompt")
        pairs = seeded_pairs(originals, prompts, cfg.per_original, cfg.seed)
    unique = list(dict.fromkeys(pairs))
    return unique[:cfg.limit] if cfg.limit else unique


def sidecar_path(out: Path) -> Path:
    """The JSON sidecar beside an output CSV (`rewrites.csv` -> `rewrites.json`)."""
    return out.with_suffix(".json")


def make_data(cfg: MakeDataConfig, *, engine: Any | None = None, progress: bool = True) -> MakeDataResult:
    """Rewrite every pair not yet in `cfg.out` and save the rows; see the module docstring."""
    from kit.packs.prompt_recovery.rewriter import REWRITER_FORMAT, render_rewriter_prompt

    cfg.validate()
    out = Path(cfg.out)
    pairs = load_pairs(cfg)  # every input is checked before anything is loaded or written
    done = _existing_rows(out)
    done_ids = {r["id"] for r in done}
    todo = [(o, p) for o, p in pairs if row_id(o, p) not in done_ids]
    if not todo:  # nothing missing: no model is loaded and the files stay as they are
        return MakeDataResult(out=str(out), sidecar=str(sidecar_path(out)), pairs=len(pairs),
                              already_done=len(pairs), made=0, empty=0, seconds=0.0, rows_per_second=None)
    if engine is None:
        engine = _load_engine(Path(cfg.model) if cfg.model else None, cfg.device)
    model_name = str(engine.model_path)
    _check_same_rewriter(out, model_name, REWRITER_FORMAT)
    sidecar = sidecar_path(out)
    started, made, empty = time.time(), 0, 0
    bar = _progress(len(todo), progress)
    for start in range(0, len(todo), cfg.chunk_rows):
        chunk = todo[start:start + cfg.chunk_rows]
        texts = engine.generate([render_rewriter_prompt(engine.tokenizer, p, o) for o, p in chunk],
                                max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size)
        new = [_row(o, p, t) for (o, p), t in zip(chunk, texts, strict=True)]
        kept = [r for r in new if r["rewritten_text"]]
        empty += len(new) - len(kept)
        done += kept
        made += len(kept)
        _save(out, done, sidecar, cfg, model_name, REWRITER_FORMAT, len(pairs), made, empty, time.time() - started)
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    seconds = time.time() - started
    return MakeDataResult(out=str(out), sidecar=str(sidecar), pairs=len(pairs), already_done=len(pairs) - len(todo),
                          made=made, empty=empty, seconds=round(seconds, 1),
                          rows_per_second=round(len(todo) / seconds, 3) if seconds > 0 else None)


def _row(original: str, prompt: str, text: str) -> dict[str, str]:
    from kit.packs.prompt_recovery.postprocess import strip_controls

    return {"id": row_id(original, prompt), "original_text": original, "rewrite_prompt": prompt,
            "rewritten_text": strip_controls(text, keep_newlines=True).strip()}


def _existing_rows(out: Path) -> list[dict[str, str]]:
    from kit.tables import read_rows

    if not out.exists():
        return []
    return [{c: r[c] for c in COLUMNS} for r in read_rows(out, required=COLUMNS)]


def _load_engine(model: Path | None, device: str) -> Any:
    from kit.assets import default_model_path
    from kit.llm.engine import Engine

    return Engine(model or default_model_path(), device=device or None)


def _check_same_rewriter(out: Path, model: str, fmt: dict[str, str]) -> None:
    """Refuse to append to rows another rewriter (model or prompt format) made: the set would be mixed."""
    sidecar = sidecar_path(out)
    if not (out.exists() and sidecar.exists()):
        return
    try:
        before = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError(f"{sidecar}: unreadable sidecar; move it away to start a new set") from None
    if before.get("model_id") not in (None, model_id(model)) or before.get("rewriter_format") not in (None, fmt):
        raise ConfigError(f"{out} was made by another rewriter ({before.get('model')}, format "
                          f"{(before.get('rewriter_format') or {}).get('version')})",
                          hint="write to a new --out, or use the same --model")


def model_id(model: str) -> str:
    """What identifies a rewriter across machines: the converted model's source sha256, else its folder."""
    provenance = _provenance(model)
    return f"sha256:{provenance['gguf_sha256']}" if provenance and provenance.get("gguf_sha256") else model


def _provenance(model: str) -> dict[str, Any] | None:
    from kit.assets import PROVENANCE_FILE

    path = Path(model) / PROVENANCE_FILE if model else None
    return json.loads(path.read_text(encoding="utf-8")) if path and path.is_file() else None


def _save(out: Path, rows: list[dict[str, str]], sidecar: Path, cfg: MakeDataConfig, model: str,
          fmt: dict[str, str], pairs: int, made: int, empty: int, seconds: float) -> None:
    from kit.tables import write_rows

    write_rows(out, rows, COLUMNS)
    write_json(sidecar, {
        "config": asdict(cfg), "model": model, "model_id": model_id(model), "model_provenance": _provenance(model),
        "rewriter_format": fmt, "rows": len(rows), "pairs": pairs, "decoding": "greedy",
        "last_run": {"made": made, "empty": empty, "seconds": round(seconds, 1)},
    })


def _progress(total: int, enabled: bool) -> Any:
    if not enabled or not total:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="rewrite", unit="row")
