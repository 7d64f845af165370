"""The one type check: kit.toml, kernel parameters and artefacts accept and refuse the same values."""

from __future__ import annotations

import pytest

from kit.errors import ConfigError
from kit.typecheck import checked, conforms


@pytest.mark.parametrize(("value", "hint", "ok"), [
    (3, int, True), (True, int, False), (3, float, True), ("3", float, False), (None, "float | None", True),
    ([1, 2], "list[int]", True), ([1, "x"], "list[int]", False), ((1, 2), "list[int]", False),
    ([1, 2], "tuple[int, ...]", True), ({"a": 1}, dict, True), ([], dict, False), ("x", "str | None", True),
])
def test_conforms(value, hint, ok):
    resolved = eval(hint) if isinstance(hint, str) else hint  # noqa: S307 - annotations written as text above
    assert conforms(value, resolved) is ok


def test_an_int_for_a_float_becomes_a_float_and_a_mismatch_says_both_types():
    assert type(checked(3, float)) is float
    with pytest.raises(TypeError, match=r"expected int \| None, got bool True"):
        checked(True, int | None)


def test_config_params_and_artefacts_refuse_the_same_value_with_the_same_words(tmp_path):
    """A bool for an int: kit.toml's [infer] batch_size, the kernel parameter it feeds and an adapter record's
    step count all say 'expected int, got bool'."""
    from kit.artefacts import AdapterInfo
    from kit.config import config_from_dict
    from kit.packs.prompt_recovery.params import InferParams

    with pytest.raises(ConfigError, match="batch_size: expected int, got bool True"):
        config_from_dict({"competition": {"slug": "llm-prompt-recovery"}, "infer": {"batch_size": True}})
    with pytest.raises(ConfigError, match="parameter batch_size: expected int, got bool True"):
        InferParams(batch_size=True)
    with pytest.raises(ValueError, match=r"global_step: expected int \| None, got bool True"):
        AdapterInfo(global_step=True)
