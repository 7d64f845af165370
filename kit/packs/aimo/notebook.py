"""Write the pack's kernel notebook, notebooks/solve.ipynb: a parameters cell written from `SolveParams` and
short cells calling the kit, shaped like the public AIMO3 starters (the competition folder on sys.path, the
competition's inference-server module, `serve()` on the scoring re-run, `run_local_gateway` otherwise).

Run after editing the cells below or SolveParams: `.venv/bin/python -m kit.packs.aimo.notebook`
(tests/test_aimo_pack.py checks the committed notebook matches).
"""

from __future__ import annotations

from pathlib import Path

from kit.kernel.cells import INSTALL
from kit.kernel.params import cell_source
from kit.packs.aimo.params import SolveParams

NOTEBOOK = Path(__file__).resolve().parent / "notebooks" / "solve.ipynb"

TITLE = """\
# kit: AIMO3 solve kernel

Serves `predict` to the competition's gateway: one problem per call, each under its share of the time left \
(time banking), the answer so far or 0 when a problem's time runs out. `timing_report.json` records every call."""


SETUP = '''\
import dataclasses

from kit.packs.aimo import kernel
from kit.packs.aimo.params import SolveParams

params = SolveParams(**{f.name: globals()[f.name] for f in dataclasses.fields(SolveParams)})  # checked here
inputs = kernel.find_inputs(sources, input_dir)  # {name: folder}; one line naming a source that is missing
COMPETITION = str(inputs["competition"])
sys.path.append(COMPETITION)
server_module = importlib.import_module(f"kaggle_evaluation.{module_prefix}_inference_server")
predict = kernel.build_predict(params, inputs.get("model"), started_at=_kit_t0)  # the model loads on call 1
print(f"recipe {template}; competition {COMPETITION}; {time.time() - _kit_t0:.1f}s since start")
'''

SERVE = '''\
inference_server = getattr(server_module, server_class)(predict)
if os.getenv("KAGGLE_IS_COMPETITION_RERUN"):
    inference_server.serve()
else:
    test_file = os.path.join(COMPETITION, "test.csv")
    if rows:  # a rehearsal on the first rows only
        import polars as pl

        test_file = "/kaggle/working/test_rows.csv" if os.path.isdir("/kaggle/working") else "test_rows.csv"
        pl.read_csv(os.path.join(COMPETITION, "test.csv")).head(rows).write_csv(test_file)
    inference_server.run_local_gateway((test_file,))
'''

REPORT = '''\
predict.log.write()
solved = predict.problems
print(f"{len(solved)} problem(s); stopped early {sum(p['stopped_early'] for p in solved)}, out of time "
      f"{sum(p['out_of_time'] for p in solved)}, tool calls {sum(p['tool_calls'] for p in solved)}")
'''


def build() -> object:
    """The notebook as an nbformat node."""
    from nbformat import v4

    nb = v4.new_notebook()
    parameters = v4.new_code_cell(cell_source(SolveParams), metadata={"tags": ["parameters"]})
    nb.cells = [v4.new_markdown_cell(TITLE), parameters,
                *(v4.new_code_cell(source) for source in (INSTALL, SETUP, SERVE, REPORT))]
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return nb


def main() -> None:
    """Write notebooks/solve.ipynb."""
    import nbformat

    NOTEBOOK.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build(), NOTEBOOK)
    print(f"wrote {NOTEBOOK}")


if __name__ == "__main__":
    main()
