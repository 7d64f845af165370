"""Write the pack's kernel notebook, kit/packs/prompt_recovery/notebooks/infer.ipynb: a parameters cell written
from the pack's params dataclass (InferParams) and short cells calling kit.

Run after editing the cells below or InferParams: `.venv/bin/python scripts/make_infer_notebook.py`.
"""

from __future__ import annotations

import nbformat
from nbformat import v4

from kit.kernel.params import cell_source
from kit.packs.prompt_recovery.pack import NOTEBOOKS
from kit.packs.prompt_recovery.params import InferParams

PARAMETERS = cell_source(InferParams)  # the one definition: kit/packs/prompt_recovery/params.py

INSTALL = '''\
import time

_kit_t0 = time.time()  # the time guard counts from here: installs and model load use the budget too
import glob
import importlib
import json
import os
import subprocess
import sys

try:
    import kit
except ImportError:  # a fresh image: find the wheels dataset (2025-26 layout, 2024 layout, a bounded search)
    _o, _s = (sources.get("wheels", "").split("/") + ["", ""])[:2]
    _found = [d for d in (f"{input_dir}/datasets/{_o}/{_s}", f"{input_dir}/{_s}") if _s] + sorted(
        os.path.dirname(m) for n in range(1, 6) for m in glob.glob(input_dir + "/*" * n + "/manifest.json"))
    _wheels = next((d for d in _found if glob.glob(d + "/kaggle_kit-*.whl")), None)
    if _wheels is None:
        raise ImportError(f"wheels dataset {sources.get('wheels')!r} not found: {input_dir} holds "
                          f"{sorted(os.listdir(input_dir)) if os.path.isdir(input_dir) else 'nothing'}")
    _no_deps = ["--no-deps"] if json.load(open(_wheels + "/manifest.json")).get("kit_only") else []
    print("installing kaggle-kit offline from", _wheels, *_no_deps)
    _pip = subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--find-links", _wheels,
                           *_no_deps, "kaggle-kit"], capture_output=True, text=True)
    print(_pip.stdout[-1500:] + _pip.stderr[-1500:])
    _pip.check_returncode()
    importlib.invalidate_caches()
    import kit
print("kit", kit.__version__, "from", os.path.dirname(kit.__file__))
'''

SETUP = '''\
from kit.kernel.guard import TimeGuard
from kit.packs.prompt_recovery import kernel

guard = TimeGuard(budget_seconds, margin_seconds, started_at=_kit_t0)
inputs = kernel.find_inputs(sources, input_dir)  # {name: folder}; one line naming a source that is missing
print("inputs:", ", ".join(f"{name} {path}" for name, path in inputs.items()))
tpl = kernel.template_for(template, inputs.get("adapter"))  # an adapter's trained format and prime
test_rows = kernel.load_rows(inputs["competition"], rows)
writer = kernel.open_submission(test_rows, tpl, mean_prompt or None)  # complete fallback file first
print(f"{len(test_rows)} rows, template {tpl.name}, {len(tpl.primes)} prime(s); fallback {writer.path} written; "
      f"{guard.seconds_left():.0f}s to the deadline")
'''

LOAD = '''\
engine = None
if tpl.primes:
    from kit.llm.workers import load_engine

    engine = load_engine(kernel.model_path(inputs.get("model")), inputs.get("adapter"),
                         workers=workers, load_in_4bit=load_in_4bit, merge=merge_adapter)
    print(f"engine ready after {guard.elapsed():.1f}s")
'''

PREDICT = '''\
from kit.packs.prompt_recovery.predict import generate_candidates

candidates = generate_candidates(test_rows, tpl, engine, max_new_tokens=max_new_tokens, batch_size=batch_size,
                                 max_field_tokens=max_field_tokens or None, mean_prompt=mean_prompt or None,
                                 guard=guard, writer=writer, progress=True)  # submission.csv chunk by chunk
'''

RESCORE = '''\
if tpl.rescore:  # a later phase: rank each row's candidates with the rewriter; rows it misses keep their string
    engine.close()  # the generation model's memory goes to the rewriter
    kernel.rescore(test_rows, candidates, tpl, kernel.model_path(inputs.get("rewriter"), "rewriter"), guard=guard,
                   writer=writer, mean_prompt=mean_prompt or None, batch_size=batch_size,
                   max_field_tokens=max_field_tokens or None, load_in_4bit=load_in_4bit)
'''

FINISH = '''\
if engine is not None:
    engine.close()
report = kernel.finish(guard, writer, tpl)
'''


def build() -> nbformat.NotebookNode:
    """The notebook object."""
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        v4.new_markdown_cell("# kit: LLM Prompt Recovery inference\n\nA fallback `submission.csv` is written before "
                             "any generation; predictions replace it chunk by chunk within the time budget. "
                             "`timing_report.json` records rows, rates and the projection for the hidden set."),
        v4.new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
        v4.new_code_cell(INSTALL),
        v4.new_code_cell(SETUP),
        v4.new_code_cell(LOAD),
        v4.new_code_cell(PREDICT),
        v4.new_code_cell(RESCORE),
        v4.new_code_cell(FINISH),
    ]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"kit-infer-{i}"
    nbformat.validate(nb)
    return nb


if __name__ == "__main__":
    out = NOTEBOOKS / "infer.ipynb"
    nbformat.write(build(), str(out))
    print(out)
