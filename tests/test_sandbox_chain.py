"""The emulator through the real client, on each toy pack (`chain_pack`): a kernel built by build-submission is
pushed, run, listed, its output fetched, code-submitted, re-run on the hidden rows by the pack's mechanism and
scored by the pack's emulator view; `kit submit` records it and `kit history` shows it. Nothing of pack 1."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.slow  # each test runs the toy kernel twice: the save-version run and the scoring rerun


@pytest.fixture(scope="module")
def emulator(chain_pack, tmp_path_factory):
    """An emulator serving the toy pack's emulator view, in a thread of this process."""
    from kit.kaggle.emulator import start_in_thread
    from kit.kaggle.isolation import isolation_problem

    if chain_pack.mechanism == "inference_server" and isolation_problem():
        pytest.skip(f"a served kernel's rerun needs namespaces: {isolation_problem()}")
    running = start_in_thread(tmp_path_factory.mktemp("emulator-state"), pack=chain_pack.pack.emulator(),
                              ready_delay=0.1)
    yield running
    running.stop()


@pytest.fixture()
def client(chain_pack, emulator):
    """The real KaggleClient on the emulator (it points this process's environment there: undone afterwards)."""
    from kit.kaggle.client import KaggleClient

    saved = dict(os.environ)
    yield KaggleClient(chain_pack.config(username=""), sandbox=True, endpoint_url=emulator.url, retries=2,
                       max_retry_wait=0.3, progress=False)
    os.environ.clear()
    os.environ.update(saved)


def test_a_built_toy_kernel_is_pushed_run_listed_submitted_and_scored(chain_pack, client, tmp_path):
    from kit.chain.build import build_submission
    from kit.chain.history import history
    from kit.chain.submit import submit

    cfg = chain_pack.config(username="")  # the sandbox account's refs, as `kit build-submission --sandbox` makes
    assert client.submission_limits(chain_pack.slug).num_allowed_now > 0
    built = build_submission(cfg, out=tmp_path / "kernel", sandbox=True)
    said: list[str] = []
    row = submit(cfg, tmp_path / "kernel", client=client, sandbox=True, message="toy", poll=(0.2, 1.0),
                 timeout=120, say=said.append)
    ref, version = row["kernel_ref"], row["kernel_version"]
    # the chain: the pushed version ran on the public rows and left the pack's file, then the rerun scored all
    assert (row["status"], ref, version) == ("complete", built["kernel_ref"], 1), row["error"]
    assert client.kernel_status(ref, version) == ("COMPLETE", "")
    public_rows = len((chain_pack.pack.emulator().mount(tmp_path / "public", hidden=False) / "test.csv")
                      .read_text().splitlines()) - 1
    assert f"kernel output {chain_pack.file_name}: {public_rows} rows, valid" in said
    fetched = client.kernel_output(ref, version, tmp_path / "fetched")
    assert chain_pack.file_name in [p.name for p in fetched]
    assert (row["public_score"], row["private_score"]) == (1.0, 1.0)  # the default recipe is the answer
    # the emulator lists it with the kit's marker, on the leaderboard beside the pack's seeded teams
    [listed] = [s for s in client.submissions(chain_pack.slug) if f"[kit {ref}/{version}]" in s.description]
    assert (listed.ref, listed.status, listed.public_score) == (row["submission_ref"], "COMPLETE", 1.0)
    board = client.leaderboard(chain_pack.slug)
    seeded = [name for name, _ in chain_pack.pack.emulator().seed_leaderboard]
    assert seeded and set(seeded) <= {e.team_name for e in board} and board[0].score == 1.0
    [recorded] = history(chain_pack.slug, sandbox=True)
    assert (recorded["id"], recorded["status"], recorded["public_score"]) == (row["id"], "complete", 1.0)
    assert recorded["parameters"]["template"] == chain_pack.templates[0]

