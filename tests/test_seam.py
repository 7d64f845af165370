"""The competition seam holds: generic modules never import a pack, and modules stay small.

Generic means every module under kit/ except kit/packs/. Imports are read from the syntax tree, so an import inside
a function (the kit's lazy imports) counts the same as one at the top, and a dotted path in a string that names a
pack module ("kit.packs.x.y:OBJ", loaded by importlib) counts too.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from pathlib import Path

import pytest
from helpers import run_kit_fresh

KIT = Path(__file__).resolve().parent.parent / "kit"
PACKS = "kit.packs"
README = KIT.parent / "README.md"
_DOTTED = re.compile(r"kit\.packs\.\w+(\.\w+)*(:\w+)?")


def _module_name(path: Path) -> str:
    parts = path.relative_to(KIT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports anywhere (relative imports resolved), plus module paths named in strings."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path).split(".") if path.name == "__init__.py" else _module_name(path).split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # `from kit import packs`
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _DOTTED.fullmatch(node.value):
            found.add(node.value.split(":")[0])
    return found


def _generic_modules() -> list[Path]:
    return sorted(p for p in KIT.rglob("*.py") if (KIT / "packs") not in p.parents)


def _imports_pack(path: Path) -> list[str]:
    return sorted(m for m in imported_modules(path) if m == PACKS or m.startswith(PACKS + "."))


def test_the_scan_sees_every_kind_of_import(tmp_path):
    pkg = tmp_path / "kit" / "chain"
    pkg.mkdir(parents=True)
    mod = pkg / "mod.py"
    mod.write_text("import os\n"
                   "def lazy():\n    from kit.packs.toy.metric import score\n"
                   "def relative():\n    from ..packs import toy\n"
                   "PATH = 'kit.packs.toy.competition:PACK'\n"
                   "DOC = 'the kit.packs entry-point group'\n")
    global KIT
    saved, KIT = KIT, tmp_path / "kit"
    try:
        assert _imports_pack(mod) == ["kit.packs", "kit.packs.toy", "kit.packs.toy.competition",
                                      "kit.packs.toy.metric", "kit.packs.toy.metric.score"]
    finally:
        KIT = saved


def test_generic_modules_import_no_pack():
    offenders = {str(p.relative_to(KIT.parent)): _imports_pack(p) for p in _generic_modules()}
    offenders = {name: mods for name, mods in offenders.items() if mods}
    assert offenders == {}


# ---------------------------------------------------------------------------- the config and CLI edges of the seam


def _register_fake(monkeypatch, sections=None, defaults=None, commands=None):
    """An in-process pack (kit.pack.register) with the given sections, defaults and commands."""
    from dataclasses import dataclass

    from kit import pack as kpack
    from kit.config import setting

    @dataclass
    class Extra:
        """A pack's own section."""

        knob: int = setting(3, "A knob only this pack has.")

    class Fake(kpack.PackDefaults):
        slug, title = "fake-comp", "Fake"

        def config_sections(self):
            return {"extra": Extra} if sections is None else sections

        def config_defaults(self):
            return defaults or {}

        def commands(self):
            return commands or {}

    monkeypatch.setitem(kpack._PACKS, "fake-comp", Fake())
    return Extra


def test_the_slug_picks_the_pack_sections_defaults_and_commands(monkeypatch, capsys):
    from kit import config
    from kit.cli import run
    from kit.errors import ConfigError

    _register_fake(monkeypatch, defaults={"kaggle": {"kernel_slug": "fake-kernel"}, "infer": {"template": "t1"}},
                   commands={"fake-cmd": ("kit.commands.init", "A command the pack adds."),
                             "init": ("kit.commands.history", "A pack cannot take a generic name.")})
    Path("kit.toml").write_text('[competition]\nslug = "fake-comp"\n[extra]\nknob = 5\n[infer]\nbatch_size = 2\n')
    cfg = config.load_config()
    assert (cfg.section("extra").knob, cfg.infer.batch_size, cfg.infer.template) == (5, 2, "t1")
    assert cfg.kaggle.kernel_slug == "fake-kernel" and cfg.section_names() == ["competition", "kaggle", "infer",
                                                                                 "extra"]
    assert "[extra]" in config.render_toml(cfg) and "# A knob only this pack has." in config.render_toml(cfg)
    with pytest.raises(ConfigError, match=r"no \[train\] section for competition 'fake-comp' \(its sections: "
                                          r"competition, kaggle, infer, extra\)"):
        cfg.section("train")  # another pack's section does not exist here
    assert not hasattr(cfg, "extra")  # sections are read by name, not as attributes
    tuned = cfg.updated(extra=dataclasses.replace(cfg.section("extra"), knob=9))
    assert tuned.section("extra").knob == 9 and cfg.section("extra").knob == 5
    assert run(["--help"]) == 0
    listed = capsys.readouterr().out
    assert "fake-cmd" in listed and "A command the pack adds." in listed and "templates" not in listed
    assert "A pack cannot take a generic name." not in listed


def test_unknown_slug_or_section_is_one_line_naming_the_file(monkeypatch, capsys):
    from kit.cli import run
    from kit.errors import ConfigError

    _register_fake(monkeypatch)
    Path("kit.toml").write_text('[competition]\nslug = "fake-comp"\n[train]\nlora_r = 4\n')
    assert run(["history"]) == ConfigError.exit_code
    err = capsys.readouterr().err.strip()
    assert "kit.toml: unknown section [train] (known: competition, kaggle, infer, extra)" in err
    Path("kit.toml").write_text('[competition]\nslug = "no-such-comp"\n')
    for argv in (["history"], ["templates"]):  # generic and pack commands alike
        assert run(argv) == ConfigError.exit_code
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1
        assert "kit.toml: no competition pack for [competition] slug 'no-such-comp'" in err
    assert run(["init", "--competition", "no-such-comp", "--dir", "other"]) == ConfigError.exit_code
    assert not Path("other/kit.toml").exists()


def test_a_pack_extends_infer_and_keeps_the_generic_sections(monkeypatch):
    from dataclasses import dataclass

    from kit import config
    from kit.errors import ConfigError

    @dataclass
    class MyInfer(config.InferConfig):
        """Inference, plus one knob."""

        beams: int = config.setting(1, "Beams.")

    _register_fake(monkeypatch, sections={"infer": MyInfer})
    cfg = config.config_from_dict({"competition": {"slug": "fake-comp"}, "infer": {"beams": 4, "workers": 2}})
    assert isinstance(cfg.infer, MyInfer) and (cfg.infer.beams, cfg.infer.workers) == (4, 2)
    _register_fake(monkeypatch, sections={"kaggle": MyInfer})
    with pytest.raises(ConfigError, match=r"redefines generic sections \['kaggle'\]"):
        config.KitConfig(competition=config.CompetitionConfig(slug="fake-comp"))


def test_readme_layout_names_only_paths_that_exist():
    """The README's layout section matches the tree: every repository path it names is there."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("Layout (") :]
    named = set(re.findall(r"`((?:kit|tests|scripts|notebooks)/[\w./-]*)`", section))
    assert len(named) > 20
    missing = sorted(p for p in named if not (KIT.parent / p).exists())
    assert missing == []


def test_help_with_a_config_flag_lists_that_workspaces_pack_commands(monkeypatch, capsys, tmp_path):
    """--help is eager: it must still see the --config given before it (or after the subcommand)."""
    from kit.cli import run

    _register_fake(monkeypatch, commands={"fake-cmd": ("kit.commands.init", "A command the pack adds.")})
    other = tmp_path / "other.toml"
    other.write_text('[competition]\nslug = "fake-comp"\n')
    assert run(["--config", str(other), "--help"]) == 0
    listed = capsys.readouterr().out
    assert "fake-cmd" in listed and "templates" not in listed  # not the default pack of the empty cwd
    assert run(["--help"]) == 0
    assert "fake-cmd" not in capsys.readouterr().out


def test_a_broken_or_mislabelled_installed_pack_is_one_config_line(monkeypatch):
    from importlib.metadata import EntryPoint

    from kit import pack as kpack
    from kit.errors import ConfigError

    points = [EntryPoint("broken", "no_such_module_for_kit_tests:PACK", kpack.ENTRY_POINT_GROUP),
              EntryPoint("mislabelled", "kit.packs.prompt_recovery.pack:PACK", kpack.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(kpack, "entry_points", lambda group: [p for p in points if p.group == group])
    with pytest.raises(ConfigError, match=r"pack 'broken' \(no_such_module_for_kit_tests:PACK\) failed to load"):
        kpack.get_pack("broken")
    with pytest.raises(ConfigError, match="registered as 'mislabelled' serves 'llm-prompt-recovery'"):
        kpack.get_pack("mislabelled")
    assert "broken" not in kpack._PACKS and "mislabelled" not in kpack._PACKS


def test_help_with_an_unknown_slug_says_in_one_line_why_the_pack_commands_are_missing(capsys):
    from kit.cli import run

    Path("kit.toml").write_text('[competition]\nslug = "no-such-comp"\n')
    assert run(["--help"]) == 0  # help still answers, with the generic commands
    out, err = capsys.readouterr()
    assert "history" in out and "packs" in out and "templates" not in out
    assert len(err.strip().splitlines()) == 1
    assert "commands are not listed" in err and "kit.toml: no competition pack for [competition] slug 'no-such-comp'" \
        in err


def test_kit_packs_lists_slug_title_mechanism_commands_and_a_broken_pack(monkeypatch, capsys):
    """`kit packs` answers even where kit.toml names no installed pack: it is how to find the right slug."""
    from importlib.metadata import EntryPoint

    from kit import pack as kpack
    from kit.cli import run

    real = kpack.entry_points
    broken = EntryPoint("broken", "no_such_module_for_kit_tests:PACK", kpack.ENTRY_POINT_GROUP)
    monkeypatch.setattr(kpack, "entry_points", lambda group: [*real(group=group), broken])
    _register_fake(monkeypatch, commands={"fake-cmd": ("kit.commands.init", "A command the pack adds.")})
    Path("kit.toml").write_text('[competition]\nslug = "no-such-comp"\n')
    assert run(["packs", "--json"]) == 0
    infos = {i["slug"]: i for i in json.loads(capsys.readouterr().out)}
    assert sorted(infos) == ["ai-mathematical-olympiad-progress-prize-3", "broken", "fake-comp", "llm-prompt-recovery"]
    assert infos["ai-mathematical-olympiad-progress-prize-3"]["mechanism"] == "inference_server"
    mine = infos["llm-prompt-recovery"]
    assert (mine["title"], mine["mechanism"], mine["error"]) == ("LLM Prompt Recovery", "file", "")
    assert {"templates", "score", "train"} <= set(mine["commands"]) and "best" in mine["recipes"]
    assert "failed to load" in infos["broken"]["error"]
    assert "AttributeError" in infos["fake-comp"]["error"]  # a pack missing part of the protocol: listed, not raised
    assert run(["packs"]) == 0
    text = capsys.readouterr().out
    assert "llm-prompt-recovery  LLM Prompt Recovery\n  mechanism: file\n  commands:  templates, score" in text
    assert "broken  (does not load: competition pack 'broken'" in text


def test_kit_packs_imports_nothing_heavy():
    out, heavy = run_kit_fresh(["packs"])
    assert out.returncode == 0, out.stderr
    assert heavy == [] and "llm-prompt-recovery" in out.stdout


def test_readme_command_table_and_make_data_default_match_the_cli():
    from kit.cli import COMMANDS
    from kit.packs.prompt_recovery.make_data import MakeDataConfig

    text = README.read_text(encoding="utf-8")
    table = {m.group(1) for m in re.finditer(r"^\| `kit ([\w-]+)` \|", text, flags=re.M)}
    assert set(COMMANDS) <= table
    shown = re.search(r"\[--per-original (\d+)\]", text)
    assert shown and int(shown.group(1)) == MakeDataConfig().per_original  # the bracket shows the default
