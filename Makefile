# Two set-up commands: `make demo` and `make test`. Both create/update .venv from the committed lock first, so
# every machine gets the packages the suite last passed with. `make lock` refreshes the lock deliberately;
# `make test-latest` tries the newest allowed versions without touching it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed
LOCK := locks/dev.lock
LATEST := .venv-latest

# torch's CPU build is not on PyPI: take it from the machine's local wheel folder where it has one, else from
# PyTorch's CPU index page. Only torch is looked up there; the lock's hashes decide what is accepted.
TORCH_WHEELS ?= $(or $(wildcard /opt/wheels),https://download.pytorch.org/whl/cpu/torch/)
# The lock is for CPython 3.11 (these machines' python3) on x86_64 Linux.
LOCK_ARGS := pyproject.toml locks/dev.in --extra dev --extra local -c locks/constraints.txt \
	--excludes locks/exclude.txt --find-links $(TORCH_WHEELS) --python-version 3.11
UV_SYNC := $(UV) pip sync -q --require-hashes --find-links $(TORCH_WHEELS)
UV_EDITABLE := $(UV) pip install -q --no-deps --no-build-isolation -e .

.PHONY: venv demo test test-long test-latest lock lint notebooks bench clean

# uv itself comes from the lock, hash-checked, so the installer is pinned like everything it installs.
$(UV): $(LOCK)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	awk '/^uv==/ {p=1; print; next} p && /^ / {print; next} {p=0}' $(LOCK) > $(VENV)/uv-lock.txt
	$(BIN)/pip install -q --no-deps --require-hashes -r $(VENV)/uv-lock.txt
	touch $(UV)

$(STAMP): $(UV) $(LOCK) pyproject.toml Makefile
	$(UV_SYNC) --python $(BIN)/python $(LOCK)
	$(UV_EDITABLE) --python $(BIN)/python
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/kit demo --competition llm-prompt-recovery

# Three workers on two cores: the suite waits on kernels, gateways and polls, so a third keeps the CPU busy (331 s
# against 366 s for two, quiet machine, back to back, with the longest modules first).
test: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -p no:cacheprovider -n 3 --dist loadscope --no-loadscope-reorder -m "not long"

# The long end-to-end runs `make test` leaves out to stay under six minutes (see the `long` marker).
test-long: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadscope -m long

# Refresh the lock to the newest versions pyproject.toml and locks/ allow; commit the result with a note.
lock: $(UV)
	$(UV) pip compile -q $(LOCK_ARGS) --upgrade --generate-hashes --custom-compile-command 'make lock' -o $(LOCK)

# The suite against the newest allowed versions in a separate venv; the lock is left as it is. Prints what differs.
test-latest: $(UV)
	rm -rf $(LATEST) && $(PY) -m venv $(LATEST)
	$(UV) pip compile -q $(LOCK_ARGS) --upgrade --no-header --no-annotate -o $(LATEST)/latest.txt
	grep -o '^[A-Za-z0-9._-]*==[^ ]*' $(LOCK) | sort > $(LATEST)/locked-pins.txt
	grep -o '^[A-Za-z0-9._-]*==[^ ]*' $(LATEST)/latest.txt | sort > $(LATEST)/latest-pins.txt
	@echo "packages whose newest allowed version differs from the lock (< locked, > newest):"
	@diff $(LATEST)/locked-pins.txt $(LATEST)/latest-pins.txt | grep '^[<>]' || echo "  none"
	$(UV) pip sync -q --find-links $(TORCH_WHEELS) --python $(LATEST)/bin/python $(LATEST)/latest.txt
	$(UV_EDITABLE) --python $(LATEST)/bin/python
	HF_HUB_OFFLINE=1 $(LATEST)/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadscope --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check kit tests scripts notebooks

# Rewrite each kernel notebook's parameters cell (notebooks/<pack>/) from its pack's params dataclass; the other
# cells are hand-written and left as they are. tests/test_notebook_params.py fails while one is stale.
notebooks: $(STAMP)
	$(BIN)/python scripts/sync_notebook_params.py

bench: $(STAMP)
	$(BIN)/python scripts/bench_cli.py

clean:
	rm -rf $(VENV) $(LATEST) build *.egg-info run-local
