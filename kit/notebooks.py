"""The only papermill/nbformat importer: read parameters, rewrite the parameters cell, render (prepare only), execute.

Kaggle runs pushed notebooks through papermill itself, so every notebook the kit renders keeps a valid
python3 kernelspec and a cell tagged `parameters`. Executing is looser, as on Kaggle: any Python notebook runs
on the kernel the caller names, with or without a `parameters` cell.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kit.errors import NotebookError

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def parameters(path: Path) -> dict[str, Any]:
    """The names and default values of a notebook's `parameters` cell."""
    import papermill as pm

    return {name: info.get("default") for name, info in pm.inspect_notebook(str(path)).items()}


def _parameters_cell(nb: Any, path: Path) -> Any:
    """The one cell tagged `parameters` (papermill injects after the first; a second would be a reader's trap)."""
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(tagged) != 1:
        raise NotebookError(f"{path}: {len(tagged)} cells tagged 'parameters'; a kit notebook has exactly one")
    return tagged[0]


def parameters_source(path: Path) -> str:
    """The source text of notebook `path`'s `parameters` cell (NotebookError unless it has exactly one)."""
    import nbformat

    return _parameters_cell(nbformat.read(str(path), as_version=nbformat.NO_CONVERT), path).source


def write_parameters(path: Path, source: str) -> bool:
    """Set the source of notebook `path`'s `parameters` cell to `source`, in place; True when the file changed.

    Every other byte stays as it was: the file must be in the form Jupyter saves (nbformat's writer), which a
    rewrite reproduces exactly; a notebook in any other form is refused (NotebookError) rather than reformatted
    around the one cell this is meant to touch."""
    import nbformat

    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    if _saved_form(nb) != text:
        raise NotebookError(f"{path}: not in the form Jupyter saves, so rewriting one cell would reformat the rest",
                            hint="open and save it in Jupyter (or nbformat.write it) once, then sync again")
    cell = _parameters_cell(nb, path)
    if cell.source == source:
        return False
    cell.source = source
    path.write_text(_saved_form(nb), encoding="utf-8")
    return True


def _saved_form(nb: Any) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"  # what nbformat.write (and so Jupyter) puts on disk


def injected_parameters(path: Path) -> dict[str, Any]:
    """Values already injected into a rendered notebook (its `injected-parameters` cell), as Python literals."""
    import ast

    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    values: dict[str, Any] = {}
    for cell in nb.cells:
        if "injected-parameters" not in cell.metadata.get("tags", []):
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                try:
                    values[node.targets[0].id] = ast.literal_eval(node.value)
                except ValueError:  # not a literal: papermill only writes literals, leave anything else alone
                    continue
    return values


def _check_kernelspec(path: Path, strict: bool = True) -> None:
    """NotebookError unless a Python notebook; `strict` (rendering): python3 kernelspec and a parameters cell."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    spec = nb.metadata.get("kernelspec") or {}
    language = spec.get("language") or (nb.metadata.get("language_info") or {}).get("name") or "python"
    if language.lower() != "python":
        raise NotebookError(f"{path}: a {language} notebook; only Python kernels run here")
    if not strict:
        return
    if spec.get("name") != "python3":
        raise NotebookError(f"{path}: kernelspec must name python3 (Kaggle runs notebooks with papermill)")
    if not any("parameters" in c.metadata.get("tags", []) for c in nb.cells):
        raise NotebookError(f"{path}: no cell tagged 'parameters'")


def render(src: Path, dst: Path, params: Mapping[str, Any]) -> Path:
    """Inject `params` into a copy of `src` without executing it (papermill prepare_only)."""
    import papermill as pm

    _check_kernelspec(src)
    unknown = sorted(set(params) - set(parameters(src)))
    if unknown:
        raise NotebookError(f"{src.name}: unknown parameter(s) {', '.join(unknown)}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(src), str(dst), parameters=dict(params), prepare_only=True,
                        kernel_name="python3", progress_bar=False, log_output=False)
    return dst


def execute(
    src: Path,
    dst: Path,
    params: Mapping[str, Any] | None = None,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    progress: bool = False,
    log_output: bool = False,
    kernel: str = "python3",
    stream: bool = False,
    quiet_kernel: bool = False,
) -> Path:
    """Execute `src` with papermill into `dst`; a failing cell becomes one NotebookError line.

    `params` are merged over any values a previous render already injected: papermill replaces the whole
    injected cell, so re-executing a rendered notebook with one new value would otherwise drop the rest.
    `env` entries are set for the kernel process (papermill starts the kernel with this process's environment).
    `kernel` is the kernelspec to run on, whatever the notebook names; parameters are injected only when some
    are given, so a notebook without a `parameters` cell runs untouched.
    `stream` echoes the kernel's progress lines (the kit's prints, its predict/generate bars, training loss) to
    stderr as they arrive; other bars and warnings are dropped. `quiet_kernel` sends the kernel process's own
    stderr (IPKernelApp transport warnings and the like) to `<dst>.log` instead of the terminal.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    _check_kernelspec(src, strict=False)
    params = {**injected_parameters(src), **(params or {})}
    dst.parent.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        with _kernel_stderr(dst.with_suffix(".log") if quiet_kernel else None) as echo:
            lines = _ProgressLines(echo) if stream else None
            pm.execute_notebook(str(src), str(dst), parameters=params or None, kernel_name=kernel,
                                cwd=str(cwd) if cwd else None, progress_bar=progress, log_output=log_output,
                                stdout_file=lines, stderr_file=lines)
            if lines is not None:
                lines.flush()
    except PapermillExecutionError as exc:
        first = str(exc.evalue).splitlines()[0] if exc.evalue else ""
        raise NotebookError(
            f"{src.name} failed in cell {exc.exec_count}: {exc.ename}: {first}",
            hint=f"executed notebook: {dst}",
        ) from None
    except Exception as exc:  # kernel start failures, dead kernels
        raise NotebookError(f"{src.name} could not run: {type(exc).__name__}: {exc}") from None
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return dst


# Lines of kernel output that are noise to a person watching: warnings, and progress bars that are not the
# kit's own (weight loading, the Trainer's bar; the kit prints its loss lines itself).
_OUR_BARS = re.compile(r"^\s*(predict|generate)\b")
_BAR = re.compile(r"\d+%\|")
_CHATTER = re.compile(r"IPKernelApp|Warning:|^\s*warnings\.warn|Loading (checkpoint shards|weights)|^\s*$")
_REDIRECT = threading.Lock()  # fd 2 is process-wide: one redirect at a time


class _ProgressLines:
    """A file-like sink for papermill's stdout_file/stderr_file: keeps progress lines, echoes them."""

    def __init__(self, echo: Any) -> None:
        self.echo, self.buffer, self.in_warning = echo, "", False

    def write(self, text: str) -> int:
        self.buffer += text
        *done, self.buffer = re.split(r"[\r\n]", self.buffer)  # tqdm redraws with \r: each redraw is a line
        for line in done:
            self._line(line)
        return len(text)

    def _line(self, line: str) -> None:
        # a Python warning is "file:line: Category: text" plus an indented source line: drop both
        if self.in_warning and line[:1].isspace():
            return
        self.in_warning = "Warning:" in line
        if keep_line(line):
            self.echo(line.rstrip())

    def flush(self) -> None:
        if self.buffer:
            self._line(self.buffer)
        self.buffer = ""


def keep_line(line: str) -> bool:
    """Whether a line of kernel output is progress worth showing (see _CHATTER and _OUR_BARS)."""
    if _CHATTER.search(line):
        return False
    return not _BAR.search(line) or bool(_OUR_BARS.match(line))


@contextmanager
def _kernel_stderr(log: Path | None) -> Iterator[Any]:
    """While executing, point fd 2 (inherited by the kernel process) at `log`; yields an echo function that
    still reaches the user's stderr. Without `log` (or while another thread redirects) nothing is moved."""
    def plain(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if log is None or not _REDIRECT.acquire(blocking=False):
        yield plain
        return
    try:
        try:
            real = sys.stderr.fileno() == 2
        except (AttributeError, OSError, ValueError):  # a test runner's or notebook's stand-in stream
            real = False
        sys.stderr.flush()
        saved = os.dup(2)
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)

        def echo(line: str) -> None:
            if real:
                os.write(saved, (line + "\n").encode("utf-8", "replace"))
            else:
                plain(line)
        try:
            yield echo
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
    finally:
        _REDIRECT.release()
