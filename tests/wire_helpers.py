"""Helpers for the kaggle_evaluation tests: free ports, AIMO3's gateway spec, a notebook and a gateway process."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

from kit.mechanisms.inference_server.kaggle_evaluation.core.spec import GatewaySpec
from kit.mechanisms.inference_server.package import write_package

PROBLEMS = {"a1": "What is $1-1$?", "b2": "What is $2+3$?", "c3": "What is $0 \\times 7$?", "d4": "What is $6/3$?"}


def free_port() -> int:
    """A TCP port nobody listens on now, so concurrent test runs (and 50051's owner, if any) never meet."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def aimo3_spec(**overrides) -> GatewaySpec:
    """AIMO3's gateway as its 0.9.0 package has it (one row a call, 9 h deadline), on a free port unless told."""
    spec = GatewaySpec(competition="ai-mathematical-olympiad-progress-prize-3", module_prefix="aimo_3",
                       gateway_class="AIMO3Gateway", server_class="AIMO3InferenceServer", test_file="test.csv",
                       row_id_column="id", target_column=None, rows_per_call=1, shuffle=True,
                       deadline_seconds=60 * 60 * 9, first_call_exempt=True, ports=(free_port(),))
    return dataclasses.replace(spec, **overrides)


def write_competition(root: Path, spec: GatewaySpec) -> Path:
    """A competition data folder under `root`: the written kaggle_evaluation package and test.csv; returns it."""
    data = root / "input" / spec.competition
    data.mkdir(parents=True)
    write_package(data, spec)
    rows = "".join(f'{key},"{problem}"\n' for key, problem in PROBLEMS.items())
    (data / spec.test_file).write_text("id,problem\n" + rows, encoding="utf-8")
    return data


def notebook_source(data: Path, predict_source: str, *, before_server: str = "") -> str:
    """A starter notebook's code, as AIMO3's public notebooks write it, around the given `predict` definition."""
    return textwrap.dedent("""\
        import os
        import sys
        import time

        import polars as pl

        sys.path.append({data!r})
        import kaggle_evaluation.aimo_3_inference_server

        CALLS = 'calls.txt'  # one line per call, for the tests to count

        def log_call():
            with open(CALLS, 'a') as handle:
                handle.write('call\\n')

        {predict}
        {before_server}
        inference_server = kaggle_evaluation.aimo_3_inference_server.AIMO3InferenceServer({name})
        if os.getenv('KAGGLE_IS_COMPETITION_RERUN'):
            inference_server.serve()
        else:
            inference_server.run_local_gateway(({test!r},))
        """).format(data=str(data), predict=textwrap.dedent(predict_source).strip(),
                    before_server=textwrap.dedent(before_server).strip(), test=str(data / "test.csv"),
                    name=_function_name(predict_source))


def _function_name(source: str) -> str:
    first = textwrap.dedent(source).strip().splitlines()[0]
    return first.removeprefix("def ").split("(")[0]


@dataclasses.dataclass
class Rerun:
    """What a rehearsed scoring rerun left: the gateway's result.json and folder, and the notebook's state."""

    result: dict
    gateway_dir: Path
    notebook_dir: Path
    notebook_was_blocked: bool
    gateway_output: str

    @property
    def calls(self) -> int:
        path = self.notebook_dir / "calls.txt"
        return len(path.read_text().splitlines()) if path.exists() else 0


def rerun_env() -> dict[str, str]:
    env = dict(os.environ, KAGGLE_IS_COMPETITION_RERUN="1")
    env.pop("PYTHONPATH", None)
    return env


def run_rerun(root: Path, data: Path, notebook: str, *, startup_limit: float = 30, timeout: float = 60) -> Rerun:
    """Kaggle's scoring rerun: the notebook in one process (it must block in serve()), the gateway in another,
    both with KAGGLE_IS_COMPETITION_RERUN=1, the gateway dialling `inference_server` mapped to loopback."""
    notebook_dir, gateway_dir = root / "working", root / "gateway"
    notebook_dir.mkdir()
    gateway_dir.mkdir()
    (root / "notebook.py").write_text(notebook, encoding="utf-8")
    with open(root / "notebook.log", "w") as log:
        kernel = subprocess.Popen([sys.executable, str(root / "notebook.py")], cwd=notebook_dir, env=rerun_env(),
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        gateway = subprocess.run(
            [sys.executable, "-m", "kaggle_evaluation.aimo_3_gateway", str(data / "test.csv"),
             "--host", "inference_server=127.0.0.1", "--startup-limit", str(startup_limit)],
            cwd=gateway_dir, env=dict(rerun_env(), PYTHONPATH=str(data)), capture_output=True, text=True,
            timeout=timeout)
        blocked = kernel.poll() is None
    finally:
        kernel.kill()
        kernel.wait()
    output = gateway.stdout + gateway.stderr
    assert gateway.returncode == 0, output
    result_path = gateway_dir / "result.json"
    assert result_path.exists(), output
    return Rerun(json.loads(result_path.read_text()), gateway_dir, notebook_dir, blocked, output)
