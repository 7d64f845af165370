"""The test FakeClient cannot drift from the real client: both are held to kit.kaggle.client.ChainClient, the
surface `kit submit` and `kit history --sync` call, signature by signature."""

from __future__ import annotations

import inspect

import pytest
from fakes import FakeClient

from kit.kaggle.client import ChainClient, KaggleClient

METHODS = sorted(name for name, value in vars(ChainClient).items()
                 if inspect.isfunction(value) and not name.startswith("_"))


def _shape(function, annotations: bool) -> list[tuple]:
    """(name, kind, default[, annotation]) of each parameter after self, then the return annotation."""
    sig = inspect.signature(function)
    params = list(sig.parameters.values())[1:]
    shape = [(p.name, p.kind, p.default) + ((p.annotation,) if annotations else ()) for p in params]
    return shape + ([("return", sig.return_annotation)] if annotations else [])


def test_the_protocol_names_every_call_the_chain_makes():
    """Each `client.<name>` the submit chain and the history sync use is in the protocol, and each of its methods
    is used (the attributes may be read through getattr)."""
    import re
    from pathlib import Path

    import kit.chain.history as history
    import kit.chain.submit as submit

    used = {m for mod in (submit, history) for m in re.findall(r"\bclient\.(\w+)", Path(mod.__file__).read_text())}
    assert used <= set(METHODS) | set(inspect.get_annotations(ChainClient)) and set(METHODS) <= used


@pytest.mark.parametrize("name", METHODS)
def test_the_real_client_has_the_protocol_signature(name):
    assert _shape(getattr(KaggleClient, name), annotations=True) == _shape(getattr(ChainClient, name), True)


@pytest.mark.parametrize("name", METHODS)
def test_the_fake_client_has_the_protocol_signature(name):
    """Names, kinds and defaults (the fake's annotations are not the contract: what a caller can pass is)."""
    assert _shape(getattr(FakeClient, name), annotations=False) == _shape(getattr(ChainClient, name), False)


def test_both_carry_the_protocol_attributes():
    wanted = inspect.get_annotations(ChainClient)
    assert wanted == {"username": "str", "sandbox": "bool"}
    assert {k: inspect.get_annotations(KaggleClient)[k] for k in wanted} == wanted
    assert {k: inspect.get_annotations(FakeClient)[k] for k in wanted} == wanted
    assert isinstance(FakeClient(), ChainClient)  # runtime_checkable: every member present


def test_a_drifted_fake_is_caught():
    """The comparison can fail: a fake whose kernel_push lost its keyword-only timeout differs."""
    class Drifted(FakeClient):
        def kernel_push(self, folder, timeout=None):
            return super().kernel_push(folder)

    assert _shape(Drifted.kernel_push, False) != _shape(ChainClient.kernel_push, False)
