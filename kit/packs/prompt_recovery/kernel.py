"""What the inference notebook's cells call: path resolution, data, fallback-first submission, report.

The notebook (notebooks/prompt_recovery/infer.ipynb) stays glue: the same functions run under papermill locally
(`kit run-local`), in the sandbox emulator and on Kaggle. Everything is driven by the notebook's
parameters: sources are refs found under /kaggle/input (kit.kernel.inputs), outputs go to the working directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kit.errors import InputError
from kit.kernel.guard import SubmissionWriter, TimeGuard, duration, run_budget_line, write_report
from kit.kernel.inputs import KAGGLE_INPUT, check_sources, resolve_all
from kit.kernel.report import REPORT_FILE

TEST_COLUMNS = ("id", "original_text", "rewritten_text")
SUBMISSION_COLUMNS = ("id", "rewrite_prompt")
HIDDEN_ROWS = 1400  # the hidden test set's expected size, for the guard's projections
SUBMISSION_FILE = "submission.csv"


# What marks each source's folder when the kernel has to search for it (models: config.json by default).
MARKERS = {"competition": "test.csv", "wheels": "manifest.json", "adapter": "adapter_config.json",
           "model": "config.json", "rewriter": "config.json"}


def find_inputs(sources: Mapping[str, str], input_dir: str | os.PathLike = KAGGLE_INPUT) -> dict[str, Path]:
    """{name: folder} for the kernel's {name: ref} sources, found under either Kaggle layout (empty refs skipped).

    A missing source is one InputError naming its ref and what the input folder holds."""
    parsed = check_sources(sources)
    markers = {name: MARKERS.get(name) or ("config.json" if ref.kind == "model" else None)
               for name, ref in parsed.items()}
    return resolve_all({name: ref.text for name, ref in parsed.items()}, markers, input_dir)


def model_path(path: str | os.PathLike | None, what: str = "model") -> Path:
    """A model folder the kernel loads (the base model, or the rewriter re-scoring templates rank with); none
    mounted means the kit's default model (rehearsals without that source). On Kaggle the rewriter is the
    `rewriter` entry of `[kaggle] model_sources`, e.g. Gemma 7B-it as the competition's host used."""
    if path is None or not str(path).strip():
        from kit.assets import default_model_path

        return default_model_path()
    path = Path(path)
    if not (path / "config.json").is_file():
        raise InputError(f"no {what} model at {path} (config.json missing)", hint=f"check the kernel's {what} source")
    return path


def template_for(name: str, adapter: str | os.PathLike | None, tuning: str = "") -> Any:
    """The template `name`, in the prompt format and prime the adapter (a folder, or none) was trained with when
    its kit_adapter.json records them (train and predict in the same format), with `kit tune`'s picks (the
    `tuning` parameter's JSON) when it re-scores."""
    from kit.packs.prompt_recovery.templates import get_template
    from kit.packs.prompt_recovery.train_data import trained_format
    from kit.packs.prompt_recovery.tuning import apply_tuning

    template = get_template(name)
    return apply_tuning(trained_format(template, Path(adapter)) if adapter else template, tuning)


def rescore(rows: Sequence[dict[str, str]], candidates: list, template: Any, rewriter: Path, *, guard: TimeGuard,
            writer: SubmissionWriter, mean_prompt: str | None, batch_size: int, max_field_tokens: int | None,
            load_in_4bit: bool = False) -> None:
    """The kernel's re-scoring phase: load the rewriter (the caller has closed the generation engine, so a 7B
    rewriter gets its GPU memory), then rank each row's candidates under `guard`, rewriting the rows it reaches.

    Any failure here (out of memory, a rewriter that does not load) stops the phase with one printed line: every
    row then keeps the string the generation phase wrote, so the submission stays complete and the kernel
    still succeeds (an exception would fail the whole submission on Kaggle)."""
    from kit.packs.prompt_recovery.rescore import Rescorer, rescore_phase

    try:
        rescorer = Rescorer.load(rewriter, load_in_4bit=load_in_4bit, max_field_tokens=max_field_tokens,
                                 batch_size=batch_size)
        print(f"rewriter ready after {guard.elapsed():.1f}s")
        rescore_phase(rows, candidates, template, rescorer, guard=guard, writer=writer, mean_prompt=mean_prompt,
                      chunk_rows=batch_size)
    except Exception as exc:  # noqa: BLE001 - see the docstring: a complete submission beats a failed kernel
        first = (str(exc).splitlines() or [""])[0][:200]
        print(f"re-scoring stopped ({type(exc).__name__}: {first}); rows not re-scored keep their generated strings")


def load_rows(data_dir: str | os.PathLike, limit: int = 0) -> list[dict[str, str]]:
    """test.csv rows (id, original_text, rewritten_text); `limit` > 0 keeps the first `limit` rows."""
    from kit.tables import read_rows

    rows = read_rows(Path(data_dir) / "test.csv", required=TEST_COLUMNS)
    if not rows:
        raise InputError(f"{data_dir}/test.csv has no rows")
    return rows[:limit] if limit and limit > 0 else rows


def open_submission(rows: Sequence[dict[str, str]], template: Any, mean_prompt: str | None = None,
                    path: str | os.PathLike = SUBMISSION_FILE) -> SubmissionWriter:
    """Write the complete fallback submission (the template's fallback for every id) and return its writer."""
    fallback = {r["id"]: template.fallback(r["original_text"], r["rewritten_text"], mean_prompt=mean_prompt)
                for r in rows}
    id_column, value_column = SUBMISSION_COLUMNS
    return SubmissionWriter(path, [r["id"] for r in rows], fallback, id_column=id_column, value_column=value_column)


def finish(guard: TimeGuard, writer: SubmissionWriter, template: Any, *, path: str | os.PathLike = REPORT_FILE,
           **extra: Any) -> dict[str, Any]:
    """Write the JSON timing report beside the submission and print its summary; returns the report."""
    primes = list(template.primes)
    report = guard.report(rows=len(writer.ids), fallback_rows=writer.fallback_rows, projected_rows=HIDDEN_ROWS,
                          template=template.name, primes=primes, submission=str(writer.path),
                          submission_writes=writer.writes, fallback_ids=writer.fallback_ids, **extra)
    report["rows_per_prime"] = dict(zip(primes, report["rows_per_pass"], strict=False))
    write_report(path, report)
    print(summary(report))
    return report


def summary(report: dict[str, Any]) -> str:
    """Two lines: rows, fallbacks, rate and the projection for the hidden set; then this run's own budget (no
    verdict on Kaggle's: a rehearsal's budget is not Kaggle's, and the host prints that comparison)."""
    rate = report.get("rows_per_second")
    projected = report.get("projected_seconds")
    parts = [f"rows={report['rows']}", f"fallback_rows={report['fallback_rows']}",
             f"rows_per_prime={report.get('rows_per_prime', report['rows_per_pass'])}",
             f"rows/s={rate if rate is not None else 'n/a'}"]
    for name, phase in report.get("phases", {}).items():
        parts.append(f"{name} phase: {sum(phase['items_per_pass'])} rows in {phase['work_seconds']:.1f}s")
    if projected is not None:
        parts.append(f"projected {report['projected_rows']} rows at this run's rate: {duration(projected)}")
    return "timing: " + ", ".join(parts) + "\n" + run_budget_line(report)
