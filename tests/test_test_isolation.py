"""The suite never touches the user's own kit state: a module fixture (which starts before a test's own
`isolated_env`) already sees a private KIT_HOME and HOME. Before, the training fixture of test_train wrote its run
into the real ledger, and `kit history --local` listed pytest's folders."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def module_env(tmp_path_factory) -> dict[str, str]:
    from kit.ledger import default_path

    return {"KIT_HOME": os.environ.get("KIT_HOME", ""), "HOME": os.environ["HOME"], "ledger": str(default_path()),
            "base": str(tmp_path_factory.getbasetemp())}


def test_a_module_fixture_sees_a_private_kit_home_and_home(module_env):
    real_home = pwd.getpwuid(os.getuid()).pw_dir
    for key in ("KIT_HOME", "HOME", "ledger"):
        assert Path(module_env[key]).is_relative_to(module_env["base"]), (key, module_env[key])
        assert not Path(module_env[key]).is_relative_to(real_home), (key, module_env[key])
    assert not any(os.environ.get(name) for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"))
