"""Test isolation: every test gets its own KIT_HOME, Kaggle config, HOME and TMPDIR, no credentials, offline."""

from __future__ import annotations

import functools
import os
import tempfile
import threading
from pathlib import Path

import pytest
from chain_packs import CHAIN_PACKS, registered

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

try:
    import torch

    HAS_CUDA = torch.cuda.is_available()
except Exception:  # pragma: no cover
    HAS_CUDA = False

_CREDENTIAL_VARS = ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "KAGGLE_API_ENVIRONMENT",
                    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "KIT_KAGGLE", "KIT_CONFIG",
                    "KIT_DEBUG")


# A test that loads a model or starts a kernel is marked slow (issue 23, item 8). Two checks hold every test to it:
# at collection, one that takes a model fixture; while it runs, one that starts a kernel (the emulator's runner) or
# loads pack 1's proxy embedder on the test's own thread (run-local, scoring). A kernel an emulator thread starts is
# not counted: it may start after the test that pushed it has ended, and would blame the next one.
MODEL_FIXTURES = {"tiny_model", "instruct_model"}
_HEAVY: set[str] = set()  # node ids of the tests during which a kernel started or the embedder was loaded
_RUNNING = [""]  # the node id of the test being set up, run or torn down


def pytest_configure(config):
    """Count kernel starts and embedder loads by the test running then: wrapped before any test module imports
    them (test_metric imports load_embedder by name)."""
    from kit.kaggle.emulator import runner
    from kit.packs.prompt_recovery import metric

    tests_thread = threading.get_ident()  # the thread pytest runs the tests on (an xdist worker's too)

    def counted(original):
        @functools.wraps(original)
        def call(*args, **kwargs):
            if threading.get_ident() == tests_thread:
                _HEAVY.add(_RUNNING[0])
            return original(*args, **kwargs)
        return call

    for owner, name in ((runner, "execute_run"), (runner, "execute_served"), (metric, "load_embedder")):
        setattr(owner, name, counted(getattr(owner, name)))


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    unmarked = []
    for item in items:
        if "gpu" in item.keywords and not HAS_CUDA:
            item.add_marker(skip_gpu)
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("slow"):
            unmarked.append(item.nodeid)
    if unmarked:
        raise pytest.UsageError("tests that load a model must be marked slow (@pytest.mark.slow): "
                                + ", ".join(unmarked))
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    # stable: a module's own order is kept
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0].rsplit("/", 1)[-1], len(rank)))


# xdist's loadscope hands whole modules to the workers in collection order (with --no-loadscope-reorder, which
# `make test` passes: by default xdist re-sorts modules by their number of tests, which put the AIMO acceptance test
# last). Alphabetical order left the longest modules (measured with --durations=0) to the end, where one worker ran
# them alone while the others sat idle; starting with them keeps all busy to the end.
LONGEST_FIRST = ("test_aimo_submit.py", "test_serve_sandbox.py", "test_demo.py", "test_train.py", "test_aimo_pack.py",
                 "test_wire_rerun.py", "test_run_local.py", "test_emulator.py", "test_rescore.py", "test_interrupts.py",
                 "test_submit.py", "test_tune.py", "test_sandbox_chain.py", "test_wheels.py", "test_client.py",
                 "test_compare.py", "test_infer.py", "test_templates.py")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _RUNNING[0] = item.nodeid  # before its fixtures: what a module fixture loads counts for this test


@pytest.fixture(autouse=True)
def _heavy_tests_marked_slow(request):
    """Fails a test that started a kernel or loaded the embedder without the slow mark (checked after it ran)."""
    yield
    if request.node.nodeid in _HEAVY and not request.node.get_closest_marker("slow"):
        pytest.fail(f"{request.node.nodeid} starts a kernel or loads a model: mark it @pytest.mark.slow",
                    pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def shared_assets(tmp_path_factory) -> Path:
    """Built assets (the tiny model, the converted instruct model) are shared by the whole run: building is
    deterministic. Under pytest-xdist every worker uses the same folder (kit.assets builds atomically, and
    `_built_once` keeps two workers from converting the same model at the same time)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        path = tmp_path_factory.getbasetemp().parent / "shared-assets"
        path.mkdir(exist_ok=True)
    else:
        path = tmp_path_factory.mktemp("assets")
    os.environ["KIT_ASSETS_DIR"] = str(path)
    return path


def _built_once(assets: Path, build):
    """`build()` under an exclusive lock on the shared assets folder: the first worker builds, the rest wait and
    find it built."""
    import fcntl

    with open(assets / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return build()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _isolate(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """KIT_HOME, the Kaggle config dir, HOME, XDG_DATA_HOME and TMPDIR under `root`; credentials and proxies
    blanked."""
    for name in ("home", "kit_home", "kaggle", "tmp", "work"):
        (root / name).mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(root / "home"))
    monkeypatch.setenv("KIT_HOME", str(root / "kit_home"))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(root / "kaggle"))
    monkeypatch.setenv("TMPDIR", str(root / "tmp"))
    monkeypatch.setenv("XDG_DATA_HOME", str(root / "home" / ".local" / "share"))
    for name in _CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", None)


@pytest.fixture(scope="session", autouse=True)
def isolated_session(tmp_path_factory) -> Path:
    """The same isolation for the whole session, so module and session fixtures (which start before a test's own
    `isolated_env`) never read or write the user's ledger, Kaggle credentials or home either."""
    root = tmp_path_factory.mktemp("session-home")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _isolate(root, monkeypatch)
        yield root


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch) -> Path:
    """A private KIT_HOME, Kaggle config dir, HOME and TMPDIR for each test; credentials and proxies blanked."""
    _isolate(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path


@pytest.fixture(scope="module", params=CHAIN_PACKS)
def chain_pack(request):
    """Each toy pack in turn (tests/chain_packs.py), registered in this process for the module's tests: the packs
    the generic chain (build-submission, submit, history, run-local, the sandbox) is tested on, without pack 1."""
    with registered(request.param) as pack:
        yield pack


@pytest.fixture
def chain_workspace(chain_pack):
    """`chain_pack`, with a kit.toml naming it in the test's working directory (what the CLI reads)."""
    chain_pack.write_toml()
    return chain_pack


@pytest.fixture
def prompt_recovery_workspace(isolated_env) -> Path:
    """./kit.toml naming the prompt-recovery pack: no pack is the kit's default, so the modules that test pack 1
    (through the CLI or `load_config()`) name it, with `pytestmark = pytest.mark.usefixtures(...)`."""
    from helpers import pr_workspace

    return pr_workspace()


@pytest.fixture(scope="session")
def tiny_model(shared_assets) -> Path:
    """The embedded tiny Mistral-architecture model, built once per session."""
    from kit.assets import tiny_model_path

    return _built_once(shared_assets, tiny_model_path)


@pytest.fixture(scope="session")
def instruct_model(shared_assets) -> Path:
    """The embedded instruct model (SmolLM2-135M-Instruct), converted once per session into the shared assets.

    Sandbox kernels inherit KIT_ASSETS_DIR, so they find this same copy instead of converting again.
    """
    from kit.assets import instruct_model_path

    return _built_once(shared_assets, instruct_model_path)
