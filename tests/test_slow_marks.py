"""The checks in conftest.py that hold every test that loads a model or starts a kernel to the `slow` mark."""

from __future__ import annotations

from types import SimpleNamespace

import conftest
import pytest


def _item(nodeid: str, fixtures: list[str], slow: bool) -> SimpleNamespace:
    return SimpleNamespace(nodeid=nodeid, fixturenames=fixtures, keywords={},
                           get_closest_marker=lambda name: object() if slow and name == "slow" else None)


def test_a_model_fixture_without_the_slow_mark_stops_the_collection():
    items = [_item("t.py::marked", ["tiny_model"], slow=True), _item("t.py::light", ["tmp_path"], slow=False)]
    conftest.pytest_collection_modifyitems(None, items)  # nothing to say
    items.append(_item("t.py::unmarked", ["engine", "instruct_model"], slow=False))
    with pytest.raises(pytest.UsageError, match=r"must be marked slow .*: t\.py::unmarked$"):
        conftest.pytest_collection_modifyitems(None, items)


def test_a_kernel_started_on_the_tests_thread_is_counted_for_the_running_test(request, tmp_path):
    """The runner's entry points are wrapped: a call counts for this test (then forgotten, or this unmarked test
    would fail its own check); one from another thread is not counted."""
    import threading

    from kit.kaggle.emulator import runner

    assert request.node.nodeid not in conftest._HEAVY
    worker = threading.Thread(target=lambda: _start(runner, tmp_path))
    worker.start()
    worker.join()
    assert request.node.nodeid not in conftest._HEAVY  # an emulator thread's kernel: not blamed on this test
    _start(runner, tmp_path)
    assert request.node.nodeid in conftest._HEAVY
    conftest._HEAVY.discard(request.node.nodeid)


def _start(runner, tmp_path) -> None:
    """Call the runner on a folder that holds no prepared run: counted on entry, failing at once."""
    try:
        runner.execute_run(tmp_path / "no-run")
    except Exception:
        pass
