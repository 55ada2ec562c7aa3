# Entry points: `make demo`, `make test` and `make app` (the local web page). All three create/reuse .venv at the repo root.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# A CPU build of torch 2.13.0 is the one pinned here; on a CUDA machine the same pin resolves to a CUDA wheel.
TORCH_SPEC ?= torch==2.13.0

.PHONY: demo test app venv clean-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[test]"  # the test extra includes the app extra (gradio)
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python imprint_joint_denoise.py --method imprint --demo --out_dir out/demo --overwrite

# make app APP_ARGS="--port 8000 --out_dir out/app"
APP_ARGS ?=
app: $(STAMP)
	$(BIN)/python app.py $(APP_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

clean-venv:
	rm -rf $(VENV)
