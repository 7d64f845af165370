"""Write the pack's kernel notebook, kit/packs/prompt_recovery/notebooks/infer.ipynb: a parameters cell written
from the pack's params dataclass (InferParams) and short cells calling kit.

Run after editing the cells below or InferParams: `.venv/bin/python scripts/make_infer_notebook.py`.
"""

from __future__ import annotations

import nbformat
from nbformat import v4

from kit.kernel.cells import INSTALL
from kit.kernel.params import cell_source
from kit.packs.prompt_recovery.pack import NOTEBOOKS
from kit.packs.prompt_recovery.params import InferParams

PARAMETERS = cell_source(InferParams)  # the one definition: kit/packs/prompt_recovery/params.py


SETUP = '''\
from kit.kernel.guard import TimeGuard
from kit.packs.prompt_recovery import kernel

guard = TimeGuard(budget_seconds, margin_seconds, started_at=_kit_t0)
inputs = kernel.find_inputs(sources, input_dir)  # {name: folder}; one line naming a source that is missing
print("inputs:", ", ".join(f"{name} {path}" for name, path in inputs.items()))
tpl = kernel.template_for(template, inputs.get("adapter"), tuning)  # adapter format; kit tune picks
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
