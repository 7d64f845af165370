"""The competition metric, locally: mean over rows of max(cos, 0)^3 on L2-normalised sentence embeddings.

The host embedded with TensorFlow sentence-t5-base. Locally the bundled all-MiniLM-L6-v2 is a *proxy*
(fast, offline, same ranking tendencies but different absolute numbers); point `--embedder` at a
sentence-t5-base folder for faithful scores. `host_tokenizer=True` emulates the host's tokenizer: special
token strings such as `</s>` are plain text and inputs are cut at 128 tokens.
"""

from __future__ import annotations

import functools
import math
import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from kit.errors import ConfigError, InputError, MissingDependencyError
from kit.packs.prompt_recovery.templates import HOST_MAX_TOKENS, strip_suffix
from kit.tables import read_rows

PROXY_NOTE = "proxy for sentence-t5-base"
SUFFIX_NOTE = "lucrarea suffix removed before scoring: it only works on sentence-t5, which this embedder is not"
# Strings pandas reads as NaN by default: the host loaded submission.csv with pandas, so a prompt that is
# literally "nan" or "None" was a NaN there and failed scoring.
_PANDAS_NA = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
              "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
_SHOW = 5  # ids named in an error line
_MODELS: dict[tuple[str, bool, str], object] = {}  # (path, host_tokenizer, precision) -> SentenceTransformer
PRECISIONS = ("auto", "fp32", "bf16")


class Embedder:
    """A sentence-transformers model loaded once; `encode` gives L2-normalised rows, in batches."""

    def __init__(self, model, label: str, host_tokenizer: bool = False, batch_size: int = 64,
                 precision: str = "fp32") -> None:
        self.model = model
        self.label = label
        self.host_tokenizer = host_tokenizer
        self.batch_size = batch_size
        self.precision = precision

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Embeddings of `texts` (float32, unit rows). Each distinct text is embedded once."""
        texts = list(texts)
        unique = list(dict.fromkeys(texts))
        if not unique:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with _cpu_threads():
            vecs = self.model.encode(
                unique, batch_size=self.batch_size, show_progress_bar=progress, convert_to_numpy=True,
            ).astype(np.float32, copy=False)
        # Normalise here, in float32: a bf16 model's own normalisation leaves norms ~1e-3 away from 1.
        vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        index = {text: i for i, text in enumerate(unique)}
        return vecs[[index[t] for t in texts]]

    @property
    def dimension(self) -> int:
        """Embedding size."""
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def tokenizer(self):
        """The model's tokenizer (host-style when host_tokenizer is on)."""
        return self.model.tokenizer

    @property
    def is_sentence_t5(self) -> bool:
        """Whether this is a sentence-t5 model (a T5 encoder), read from its transformer module's config."""
        for module in self.model:
            config = getattr(getattr(module, "auto_model", None), "config", None)
            if config is not None:
                return getattr(config, "model_type", "") == "t5"
        return False

    def token_counter(self):
        """A host-style token counter when this is a T5-family model (for the `best` template's cap), else None."""
        tok = self.model.tokenizer
        if "t5" not in type(tok).__name__.lower() and "t5" not in str(getattr(tok, "name_or_path", "")).lower():
            return None
        return lambda text: len(tok(text, add_special_tokens=True, split_special_tokens=True)["input_ids"])


def _other_runnable(samples: int = 5, gap_s: float = 0.01) -> int:
    """Tasks of other processes that want a CPU right now (fewest over a few samples of /proc/loadavg).

    The 1-minute load average would count this process's own recent threads, so a second scoring run
    right after a first one would wrongly see a busy machine.
    """
    try:
        seen = []
        for _ in range(samples):
            with open("/proc/loadavg") as fh:
                running = int(fh.read().split()[3].split("/")[0])
            seen.append(running - 1)  # the reading thread itself is running
            time.sleep(gap_s)
        return max(min(seen), 0)
    except (OSError, ValueError, IndexError):  # not Linux: fall back to the load average
        return int(os.getloadavg()[0])


@contextmanager
def _cpu_threads():
    """One torch thread while other processes want the CPUs, all threads otherwise.

    OpenMP workers spin at every barrier, so when another process holds a core the spinning partner burns its
    slice waiting: on a loaded 2-core AMX box two threads took 3-4x the wall of one (bf16, 400 texts: 8 s vs
    2.1 s). On the same box when quiet, two threads win (bf16, 2,800 `best`-length texts: 6.3 s vs 10.4 s).
    """
    import torch

    threads = torch.get_num_threads()
    busy = threads > 1 and _other_runnable() + threads > (os.cpu_count() or 1)
    if busy:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if busy:
            torch.set_num_threads(threads)


def _label(path: Path, default: Path, host_tokenizer: bool, precision: str) -> str:
    label = f"all-MiniLM-L6-v2 (bundled; {PROXY_NOTE})" if path == default else str(path)
    return label + (" [host tokenizer]" if host_tokenizer else "") + (" [bf16]" if precision == "bf16" else "")


def resolve_precision(precision: str = "auto") -> str:
    """'auto' is bf16 on a CPU with AMX (about 3x faster there, cosines within ~1e-4 of fp32), else fp32."""
    if precision not in PRECISIONS:
        raise ConfigError(f"unknown embedder precision '{precision}'", hint=f"use one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    import torch

    if torch.cuda.is_available():
        return "fp32"
    return "bf16" if cpu_has_amx_bf16() else "fp32"


@functools.cache
def cpu_has_amx_bf16() -> bool:
    """Whether this CPU multiplies bf16 matrices in AMX tiles, from the kernel's CPU flags (torch's own probe is
    private); False where /proc/cpuinfo does not exist. oneDNN asks the kernel for the tile state itself."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(line.startswith("flags") and "amx_bf16" in line.split() for line in text.splitlines())


def load_embedder(path: str | Path | None = None, host_tokenizer: bool = False, precision: str = "auto") -> Embedder:
    """The embedder at `path` (None or '': the bundled MiniLM proxy); each model is loaded once per process.

    precision: 'auto' (bf16 on AMX CPUs, else fp32), 'fp32' or 'bf16'.
    """
    from kit.assets import default_embedder_path

    default = default_embedder_path().resolve()
    folder = Path(path).expanduser().resolve() if path else default
    if not folder.is_dir():
        raise InputError(f"embedder folder not found: {folder}",
                         hint="give a sentence-transformers model folder (e.g. sentence-t5-base)")
    precision = resolve_precision(precision)
    key = (str(folder), host_tokenizer, precision)
    if key not in _MODELS:
        _MODELS[key] = _load_model(folder, host_tokenizer, precision)
    return Embedder(_MODELS[key], _label(folder, default, host_tokenizer, precision), host_tokenizer,
                    precision=precision)


def _load_model(folder: Path, host_tokenizer: bool, precision: str):
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:  # pragma: no cover - a declared dependency
        raise MissingDependencyError("sentence-transformers is not installed",
                                     hint="pip install sentence-transformers") from None
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a weight-loading bar per load is noise in every command's output
    try:
        model = SentenceTransformer(str(folder), device="cpu" if not _cuda() else None)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot load embedder from {folder}: {exc}".splitlines()[0]) from None
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    if host_tokenizer:
        # The host's TF SentencePiece reads `</s>` as the characters < / s >, and its model saw 128 tokens.
        model.tokenizer.split_special_tokens = True
        model.max_seq_length = HOST_MAX_TOKENS
    if precision == "bf16":
        import torch

        model.to(torch.bfloat16)
    return model


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@dataclass
class ScoreReport:
    """A scored set: mean, 95% confidence interval, per-row scores in `ids` order, and what embedded them."""

    mean: float
    ci_low: float
    ci_high: float
    n: int
    per_row: list[float] = field(repr=False)
    ids: list[str] = field(repr=False)
    embedder: str = ""
    suffix_removed: bool = False  # the lucrarea suffix was cut from predictions before scoring (SUFFIX_NOTE)
    full_string: dict | None = None  # with suffix_removed: mean, ci_low, ci_high of the full strings

    def to_dict(self, per_row: bool = False) -> dict:
        """Plain data for JSON; per-row scores only when asked."""
        data = asdict(self) | {"scorer": self.embedder}  # `scorer`: the generic name the ledger records it under
        if not per_row:
            data.pop("per_row")
            data.pop("ids")
        return data


def sharpened_cosine(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Row-wise max(cos, 0)^3 of two arrays of unit vectors."""
    cos = np.einsum("ij,ij->i", pred.astype(np.float64), true.astype(np.float64))
    return np.clip(cos, 0.0, 1.0) ** 3


def summarize(per_row: list[float] | np.ndarray, ids: list[str], embedder: str = "") -> ScoreReport:
    """Mean and 95% normal CI (1.96 * std / sqrt(n)) of per-row scores."""
    values = np.asarray(per_row, dtype=np.float64)
    n = len(values)
    mean = float(values.mean()) if n else float("nan")
    half = 1.96 * float(values.std()) / math.sqrt(n) if n else float("nan")
    return ScoreReport(mean, mean - half, mean + half, n, [float(v) for v in values], list(ids), embedder)


def is_blank(value) -> bool:
    """True for what the host's pandas would read as missing: None, NaN, blank or 'nan'-like strings."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return str(value).strip() in _PANDAS_NA


def first_ids(ids) -> str:
    """The first few ids for an error line, quoted, with a count of the rest."""
    ids = list(ids)
    more = f" (+{len(ids) - _SHOW} more)" if len(ids) > _SHOW else ""
    return ", ".join(repr(i) for i in ids[:_SHOW]) + more


def score_texts(predictions: list[str], labels: list[str], embedder: Embedder | None = None,
                ids: list[str] | None = None, progress: bool = False, keep_suffix: bool | None = None) -> ScoreReport:
    """Score aligned lists (row i of each belongs together).

    keep_suffix None (auto): with an embedder that is not sentence-t5 (the bundled MiniLM proxy), predictions
    are scored without the lucrarea suffix, which lowers proxy scores while it raises sentence-t5 ones, so
    recipes rank as they would on the leaderboard; the full strings' score is reported beside it.
    """
    if len(predictions) != len(labels):
        raise InputError(f"{len(predictions)} predictions but {len(labels)} labels: the lists must align")
    ids = [str(i) for i in (ids if ids is not None else range(len(labels)))]
    blank = [i for i, p in zip(ids, predictions, strict=True) if is_blank(p)]
    if blank:
        raise InputError(f"{len(blank)} blank or NaN prediction(s); the host fails such a submission; "
                         f"first ids: {first_ids(blank)}")
    if not labels:
        raise InputError("nothing to score: no rows")
    embedder = embedder or load_embedder()
    predictions = [str(p) for p in predictions]
    stripped = predictions if keep_suffix or (keep_suffix is None and embedder.is_sentence_t5) else \
        [strip_suffix(p) for p in predictions]
    vecs = embedder.encode(stripped + [str(t) for t in labels] + predictions, progress=progress)
    n = len(labels)
    report = summarize(sharpened_cosine(vecs[:n], vecs[n:2 * n]), ids, embedder.label)
    if stripped != predictions:
        full = summarize(sharpened_cosine(vecs[2 * n:], vecs[n:2 * n]), ids)
        report.suffix_removed = True
        report.full_string = {"mean": full.mean, "ci_low": full.ci_low, "ci_high": full.ci_high}
    return report


def describe_suffix(report: ScoreReport | dict) -> str:
    """One line saying the suffix was removed and what the full strings scored ('' when nothing was removed)."""
    data = report.to_dict() if isinstance(report, ScoreReport) else report
    full = data.get("full_string")
    if not data.get("suffix_removed") or not full:
        return ""
    return f"{SUFFIX_NOTE}; full strings: {full['mean']:.4f} [{full['ci_low']:.4f}, {full['ci_high']:.4f}]"


def check_ids(predictions: dict, labels: dict) -> None:
    """InputError, like the host, when the id sets differ (missing first, then unexpected)."""
    missing = [i for i in labels if i not in predictions]
    extra = [i for i in predictions if i not in labels]
    if missing:
        tail = f"; also {len(extra)} id(s) not in the labels, first: {first_ids(extra)}" if extra else ""
        raise InputError(f"predictions are missing {len(missing)} id(s) of the labels, first: "
                         f"{first_ids(missing)}{tail}")
    if extra:
        raise InputError(f"predictions have {len(extra)} id(s) not in the labels, first: {first_ids(extra)}")


def score(predictions: dict[str, str], labels: dict[str, str], embedder: Embedder | None = None,
          progress: bool = False, keep_suffix: bool | None = None) -> ScoreReport:
    """Score predictions by id against labels by id; rows in the labels' order."""
    predictions = {str(k): v for k, v in predictions.items()}
    labels = {str(k): v for k, v in labels.items()}
    check_ids(predictions, labels)
    ids = list(labels)
    return score_texts([predictions[i] for i in ids], [labels[i] for i in ids], embedder, ids, progress,
                       keep_suffix)


def _by_id(path: Path, what: str) -> dict[str, str]:
    rows = read_rows(path, required=("id", "rewrite_prompt"))
    out: dict[str, str] = {}
    dupes: list[str] = []
    blank_ids = [n for n, row in enumerate(rows, start=2) if not row["id"].strip()]
    if blank_ids:
        raise InputError(f"{path}: {len(blank_ids)} row(s) in the {what} with a blank id, first at line(s) "
                         f"{first_ids(blank_ids)}")
    for row in rows:
        key = row["id"]  # exact, as the host compared them
        if key in out:
            dupes.append(key)
        out[key] = row["rewrite_prompt"]
    if dupes:
        raise InputError(f"{path}: {len(dupes)} duplicate id(s) in the {what}, first: "
                         f"{first_ids(dict.fromkeys(dupes))}")
    if not out:
        raise InputError(f"{path}: no rows in the {what}")
    return out


def check_files(predictions_csv: Path, labels_csv: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Both files read and checked (columns, encoding, blank or duplicate ids, blank values, id sets) with no
    model loaded; every message names the file it is about. Returns (predictions, labels) by id."""
    preds = _by_id(Path(predictions_csv), "predictions")
    labels = _by_id(Path(labels_csv), "labels")
    blank_labels = [i for i, v in labels.items() if is_blank(v)]
    if blank_labels:
        raise InputError(f"{labels_csv}: {len(blank_labels)} blank label(s), first ids: {first_ids(blank_labels)}")
    blank = [i for i, v in preds.items() if is_blank(v)]
    if blank:
        raise InputError(f"{predictions_csv}: {len(blank)} blank or NaN prediction(s); the host fails such a "
                         f"submission; first ids: {first_ids(blank)}")
    try:
        check_ids(preds, labels)
    except InputError as exc:
        raise InputError(f"{predictions_csv} vs {labels_csv}: {exc.message}") from None
    return preds, labels


def score_files(predictions_csv: Path | str, labels_csv: Path | str, embedder_path: str | Path | None = None,
                host_tokenizer: bool = False, progress: bool = False, precision: str = "auto",
                keep_suffix: bool | None = None) -> ScoreReport:
    """Score a submission CSV (id,rewrite_prompt) against labels (id,rewrite_prompt or the full train format)."""
    preds, labels = check_files(Path(predictions_csv), Path(labels_csv))  # before any model is loaded
    return score(preds, labels, load_embedder(embedder_path, host_tokenizer, precision), progress, keep_suffix)
