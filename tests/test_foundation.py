"""Foundation: CLI error boundary, config validation, lazy imports, embedded assets."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import PROMPT_RECOVERY, run_kit_fresh

from kit import config as kconfig
from kit import files, tables
from kit.cli import run
from kit.errors import EXIT_CODES, ConfigError, InputError
from kit.poll import PollTimeout, poll_until


def _kit(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kit", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_exit_codes_are_distinct():
    assert len(set(EXIT_CODES.values())) == len(EXIT_CODES)
    assert 0 not in EXIT_CODES.values() and 2 not in EXIT_CODES.values()  # 2 stays click's usage error


def test_help_lists_commands_without_importing_heavy_modules():
    out, heavy = run_kit_fresh(["--help"])
    assert out.returncode == 0, out.stderr
    assert "init" in out.stdout and "Commands" in out.stdout
    assert heavy == []


@pytest.mark.parametrize("argv", [["init", "--competition", PROMPT_RECOVERY], ["history", "--help"]])
def test_light_commands_do_not_import_torch(tmp_path, argv):
    out, heavy = run_kit_fresh(argv, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert heavy == []


def test_init_writes_valid_commented_config(capsys):
    assert run(["init", "--username", "alice", "--competition", PROMPT_RECOVERY]) == 0
    text = Path("kit.toml").read_text()
    assert "# Your Kaggle username" in text and 'username = "alice"' in text
    assert "#   rewriter: the model re-scoring templates" in text  # the pack's model sources, named for the user
    cfg = kconfig.load_config()
    assert cfg.kaggle.username == "alice" and cfg.competition.slug == PROMPT_RECOVERY
    assert run(["init", "--competition", PROMPT_RECOVERY]) == ConfigError.exit_code  # refuses to overwrite
    assert "already exists" in capsys.readouterr().err


def test_no_pack_is_the_default_with_several_installed(capsys):
    """No kit.toml (or one without a slug) and both built-in packs installed: one line listing them; `kit --help`
    still lists the generic commands."""
    assert run(["init", "--dir", "w"]) == ConfigError.exit_code
    err = capsys.readouterr().err.strip()
    assert err == ("error: no competition chosen: 2 competition packs are installed (ai-mathematical-olympiad-"
                   "progress-prize-3, llm-prompt-recovery) (set [competition] slug in kit.toml, or run `kit init "
                   "--competition SLUG`)") and not Path("w/kit.toml").exists()
    Path("kit.toml").write_text('[kaggle]\nusername = "alice"\n')
    assert run(["history"]) == ConfigError.exit_code
    assert capsys.readouterr().err.startswith(f"error: {Path('kit.toml').resolve()}: no competition chosen: 2 ")
    Path("kit.toml").unlink()
    assert run(["--help"]) == 0
    out, err = capsys.readouterr()
    assert "run-local" in out and "templates" not in out  # the generic commands, none of a pack's
    assert err.startswith("note: the competition pack's commands are not listed: no competition chosen")


def test_the_one_installed_pack_is_the_default(monkeypatch):
    from kit import pack

    monkeypatch.setattr(pack, "available", lambda: {PROMPT_RECOVERY: object()})
    assert kconfig.load_config().competition.slug == PROMPT_RECOVERY  # no kit.toml at all
    monkeypatch.setattr(pack, "available", lambda: {})
    with pytest.raises(ConfigError, match=r"^no competition chosen: no competition packs are installed \(set"):
        kconfig.load_config()


def test_malformed_config_is_one_clear_line():
    Path("kit.toml").write_text("[kaggle\nusername = 1\n")
    out = _kit("assets", "--json")
    assert out.returncode == ConfigError.exit_code
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "malformed TOML" in lines[0] and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "toml, message",
    [
        ("[kaggle]\nusername = 3\n", "expected str, got int"),
        ("[kaggle]\nnope = 'x'\n", "unknown key 'nope'"),
        ("[wat]\nx = 1\n", "unknown section [wat]"),
        ("[infer]\nbatch_size = true\n", "expected int, got bool"),
        ("[kaggle]\nmodel_sources = {judge = 'a/b'}\n", "kit.toml [kaggle] model_sources: unknown source 'judge' "
                                                        "(competition llm-prompt-recovery's sources: rewriter)"),
        ("[kaggle]\nmodel_sources = {rewriter = 7}\n", "model_sources rewriter: expected a ref string, got int 7"),
        ("[kaggle]\nmodel_sources = 'a/b'\n", "[kaggle] model_sources: expected dict, got str"),
    ],
)
def test_bad_values_name_the_key(toml, message):
    Path("kit.toml").write_text(f'[competition]\nslug = "{PROMPT_RECOVERY}"\n' + toml)
    with pytest.raises(ConfigError, match=re.escape(message)):
        kconfig.load_config()


def test_missing_explicit_config(capsys):
    assert run(["--config", "nope.toml", "assets"]) == ConfigError.exit_code
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: config file not found: nope.toml")


def test_debug_shows_traceback():
    out = _kit("--config", "missing.toml", "assets", env={"KIT_DEBUG": "1"})
    assert out.returncode != 0 and "Traceback" in out.stderr


def test_set_value_keeps_comments_and_validates(tmp_path):
    path = kconfig.init_workspace(tmp_path, competition=PROMPT_RECOVERY)
    kconfig.set_value(path, "mean_prompt", "text", 'say "hi"\nthere')
    kconfig.set_value(path, "infer", "batch_size", 4)
    cfg = kconfig.load_config(path)
    assert cfg.section("mean_prompt").text == 'say "hi"\nthere' and cfg.infer.batch_size == 4
    assert "# Mean prompt string" in path.read_text()
    with pytest.raises(ConfigError):
        kconfig.set_value(path, "infer", "batch_size", "four")
    assert kconfig.load_config(path).infer.batch_size == 4  # the bad write left nothing behind
    # A hand-edited file: the user's comments, order and unrelated keys survive an edit byte for byte.
    mine = (f'# my workspace\n[competition]\nslug = "{PROMPT_RECOVERY}"\n'
            '[kaggle]  # who I am\nusername = "bob"  # keep me\n\n'
            '# infer knobs, tuned on 2026-11-01\n[infer]\nbatch_size = 2\ntemplate = "mean"  # fast\n')
    path.write_text(mine)
    kconfig.set_value(path, "infer", "batch_size", 16)
    kconfig.set_value(path, "kaggle", "wheels_constraints", ["peft<0.12"])
    kconfig.set_value(path, "train", "lora_r", 4)
    assert path.read_text() == mine.replace("batch_size = 2", "batch_size = 16").replace(
        '# keep me\n', '# keep me\nwheels_constraints = ["peft<0.12"]\n') + "\n[train]\nlora_r = 4\n"


def test_write_json_is_sorted(tmp_path):
    from kit.files import write_json

    path = write_json(tmp_path / "x.json", {"b": 1, "a": {"d": 2, "c": 3}})
    assert path.read_text().index('"a"') < path.read_text().index('"b"')
    assert json.loads(path.read_text())["a"]["c"] == 3


def test_atomic_writes_replace_whole_or_leave_the_old_file(tmp_path):
    path = files.atomic_write(tmp_path / "sub" / "x.bin", b"old")
    with pytest.raises(RuntimeError), files.atomic_open(path, "wb") as fh:
        fh.write(b"half")
        raise RuntimeError("killed mid-write")
    assert path.read_bytes() == b"old" and oct(path.stat().st_mode & 0o777) == "0o644"
    target = tmp_path / "w" / "built"
    with files.atomic_dir(target) as tmp:
        (tmp / "a").write_text("mine")
        with files.atomic_dir(target) as other:  # another process finishes the same build first
            (other / "a").write_text("theirs")
    assert (target / "a").read_text() == "theirs"
    assert [p.name for p in target.parent.iterdir()] == ["built"]
    assert [p.name for p in path.parent.iterdir()] == ["x.bin"]  # no temp files left behind


def test_one_csv_reader_keeps_ids_heads_files_and_names_bad_ones(tmp_path):
    path = tables.write_rows(tmp_path / "t.csv", [{"id": "007", "text": "a,\n\"b\""}, {"id": "-1", "text": ""},
                                                  {"id": "x", "text": "c"}], ["id", "text"])
    assert tables.read_rows(path, limit=2) == [{"id": "007", "text": "a,\n\"b\""}, {"id": "-1", "text": ""}]
    assert tables.read_header(path) == ["id", "text"] and len(tables.read_rows(path, ["id"])) == 3
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"id,text\n" + b"1,ok\n" * 5000 + b"2,\xff\n")  # the bad byte is far past the header
    with pytest.raises(InputError, match=r"bad.csv: not UTF-8 text"):
        tables.read_rows(bad)
    assert len(tables.read_rows(bad, limit=10)) == 10  # a head never reads that far


def test_poll_backs_off_and_times_out_at_the_deadline():
    sleeps, answers = [], iter(range(100))
    got = poll_until(lambda: next(answers), lambda n: n == 3, timeout=60, interval=1.0, backoff=2.0, max_interval=3.0,
                     sleep=sleeps.append)
    assert got == 3 and sleeps == [1.0, 2.0, 3.0]
    seen = []
    with pytest.raises(PollTimeout) as caught:
        poll_until(lambda: "RUNNING", lambda s: s == "COMPLETE", timeout=0.2, interval=0.05, backoff=1.5,
                   on_answer=lambda answer, elapsed: seen.append(elapsed))
    assert caught.value.last == "RUNNING" and 0.2 <= caught.value.elapsed < 1.0
    assert seen == sorted(seen) and seen[-1] >= 0.2  # the last probe is at the deadline, not before it
    with pytest.raises(KeyError):  # a probe's own error ends the wait at once
        poll_until(lambda: {}["x"], timeout=60, interval=1.0, sleep=sleeps.append)


def test_kit_home_defaults_to_user_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("KIT_HOME")
    assert kconfig.kit_home() == tmp_path / "home" / ".local" / "share" / "kit"


@pytest.mark.slow  # loads a model (the tiny_model / instruct_model fixture)
def test_tiny_model_loads_in_transformers(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    tok_cfg = json.loads((tiny_model / "tokenizer_config.json").read_text())
    assert tok_cfg["tokenizer_class"] == "PreTrainedTokenizerFast"
    text = tok.apply_chat_template([{"role": "user", "content": "Rewrite this."}], tokenize=False)
    assert text.startswith("<s>[INST] Rewrite this. [/INST]")
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert ids.count(tok.bos_token_id) == 1  # no double BOS
    assert tok.padding_side == "left"
    assert model.config.model_type == "mistral" and sum(p.numel() for p in model.parameters()) < 1_000_000
    merges = json.loads((tiny_model / "tokenizer.json").read_text())["model"]["merges"]
    assert all(isinstance(m, str) and m.count(" ") == 1 for m in merges)  # legacy form: tokenizers 0.19 reads it


def test_tiny_model_is_deterministic(tmp_path):
    from kit.assets import _corpus, build_tiny_model

    a = build_tiny_model(tmp_path / "a", _corpus())
    b = build_tiny_model(tmp_path / "b", _corpus())
    assert (a / "tokenizer.json").read_bytes() == (b / "tokenizer.json").read_bytes()
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()


def test_sample_data_is_kaggle_shaped():
    import csv

    from kit.packs.prompt_recovery.samples import sample_data_dir

    data = sample_data_dir()
    with open(data / "train.csv", newline="") as fh:
        train = list(csv.DictReader(fh))
    with open(data / "test.csv", newline="") as fh:
        test = list(csv.DictReader(fh))
    with open(data / "sample_submission.csv", newline="") as fh:
        sub = list(csv.DictReader(fh))
    assert len(train) == 230 and len(test) == 40  # kit/data/README.md's counts
    assert set(train[0]) == {"id", "original_text", "rewrite_prompt", "rewritten_text"}
    assert set(test[0]) == {"id", "original_text", "rewritten_text"}
    assert [r["id"] for r in sub] == [r["id"] for r in test]
    assert "-1" in {r["id"] for r in test}
    assert all(r["rewrite_prompt"].strip() for r in train)


def test_default_embedder_is_bundled():
    from kit.assets import default_embedder_path

    assert (default_embedder_path() / "modules.json").exists()


def test_execute_keeps_values_a_render_injected(tmp_path):
    import nbformat

    from kit.notebooks import KERNELSPEC, execute, injected_parameters, render

    nb = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC})
    nb.cells = [nbformat.v4.new_code_cell("a = 1\nb = 'x'", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("open('out.txt', 'w').write(f'{a}-{b}')")]
    src = tmp_path / "src.ipynb"
    nbformat.write(nb, str(src))
    rendered = render(src, tmp_path / "rendered.ipynb", {"a": 5, "b": "rendered"})
    assert injected_parameters(rendered) == {"a": 5, "b": "rendered"}
    execute(rendered, tmp_path / "run.ipynb", {"b": "again"}, cwd=tmp_path)
    assert (tmp_path / "out.txt").read_text() == "5-again"  # a=5 survived the second injection


def test_atomic_write_keeps_the_targets_mode(tmp_path):
    """A private file (chmod 600: a kit.toml, a key) stays private when the kit rewrites it."""
    from kit.files import atomic_write

    private = tmp_path / "kit.toml"
    private.write_text("a = 1\n")
    private.chmod(0o600)
    atomic_write(private, "a = 2\n")
    assert private.read_text() == "a = 2\n" and private.stat().st_mode & 0o777 == 0o600
    fresh = atomic_write(tmp_path / "new.json", "{}")
    umask = os.umask(0)
    os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask


def test_the_lock_pins_every_dependency_with_hashes():
    """A dependency added to pyproject.toml without `make lock` would install unpinned: the lock must name it,
    at a version its range admits, with the hashes `uv pip sync --require-hashes` checks."""
    import re

    import tomllib
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    root = Path(__file__).resolve().parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    wanted += [Requirement(r) for extra in ("dev", "local") for r in project["optional-dependencies"][extra]]
    lock = (root / "locks" / "dev.lock").read_text(encoding="utf-8")
    blocks = re.findall(r"^([A-Za-z0-9._-]+)==(\S+) \\\n((?:    --hash=sha256:[0-9a-f]{64}.*\n)+)", lock, re.M)
    pins = {canonicalize_name(name): version for name, version, _ in blocks}
    assert len(blocks) == len(re.findall(r"^[A-Za-z0-9._-]+==", lock, re.M))  # every pin carries its hashes
    needed = {canonicalize_name(r.name): r for r in wanted if r.marker is None or r.marker.evaluate()}
    assert sorted(set(needed) - set(pins)) == []
    assert {name: pins[name] for name, r in needed.items()
            if not r.specifier.contains(pins[name], prereleases=True)} == {}
    assert pins["torch"].endswith("+cpu") and "llm" not in pins  # the CPU build; the model package's host left out
