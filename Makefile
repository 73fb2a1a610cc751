# The two commands of README.md: `make run` and `make test`. Both set up and build first.
PRESET ?= release
BUILD := build/$(PRESET)
FUZZ_SECONDS ?= 5

.PHONY: setup build run test test-unit test-asan test-fuzz fuzz-corpus fuzz-long bench bench-portable bench-python bench-exchange bench-blas bench-simulator bench-elementwise bench-torch-step format tidy clean

setup:
	bash scripts/setup.sh

build: setup
	cmake --preset $(PRESET) >/dev/null
	cmake --build --preset $(PRESET)

# The default training run (docs/config.md): Fashion-MNIST, an MLP, 8 workers, DEF with RBGS r = 64.
run: build
	$(BUILD)/gradcomp train

test: setup test-unit test-asan test-fuzz

test-unit: build
	ctest --preset $(PRESET) -j 2

test-asan: setup
	cmake --preset asan >/dev/null
	cmake --build --preset asan
	ctest --preset asan -j 2 -LE slow

# Every fuzz target briefly from its seed corpus, then the fuzzing's own check: a build with a
# planted read past the end in Top-k's decoder must be caught (tests/fuzz/planted_defect.sh).
test-fuzz: setup
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz
	bash tests/fuzz/run_all.sh build/fuzz $(FUZZ_SECONDS)
	cmake --preset fuzz-planted >/dev/null
	cmake --build --preset fuzz-planted --target fuzz_topk
	bash tests/fuzz/planted_defect.sh build/fuzz-planted 60

# The seed corpora (tests/fuzz/corpus/NAME/), written again from real messages.
fuzz-corpus: setup
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz --target fuzz_corpus

# Not in CI: every target for 1M executions from its corpus (docs/testing.md has the last figures).
fuzz-long: setup
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz
	FUZZ_RUNS=1000000 bash tests/fuzz/run_all.sh build/fuzz

bench: build
	$(BUILD)/bench/compress_bench --benchmark_min_time=0.3 --benchmark_repetitions=5 \
	  --benchmark_format=json >$(BUILD)/bench.json
	python3 bench/report.py $(BUILD)/bench.json

# The portable build (release preset) against -march=native, encode at 1M and 25M (docs/benchmarks.md).
bench-portable: setup
	bash bench/portable_vs_native.sh

# The Python module's encode against the C++ benchmark of the same kernels (docs/benchmarks.md).
bench-python: build
	PYTHONPATH=$(BUILD)/python /usr/bin/python3 bench/python_overhead.py $(BUILD) 5

# Needs root: runs mpirun on loopback and inside a rate-limited network namespace (docs/benchmarks.md).
bench-exchange: build
	bash bench/netem_exchange.sh $(BUILD)

# The in-process simulator (20 workers, logistic regression) against a NumPy loop doing the same
# update, on 1 and 2 threads (docs/benchmarks.md).
bench-simulator: build
	/usr/bin/python3 bench/simulator.py $(BUILD)/gradcomp 3000

# The default run's libtorch step against a PyTorch loop doing the same work (docs/benchmarks.md).
# The per-worker kernels of core/elementwise.hpp at d = 5,000 and 1M (docs/benchmarks.md, simulator).
bench-elementwise: build
	$(BUILD)/bench/elementwise_bench --benchmark_min_time=0.3

bench-torch-step: build
	/usr/bin/python3 bench/torch_step.py $(BUILD)/gradcomp 600

# The training step with OpenBLAS against Debian's reference BLAS (docs/benchmarks.md).
bench-blas: build
	bash bench/blas_step.sh $(BUILD)

format:
	find src tests bench python -name '*.hpp' -o -name '*.cpp' -o -name '*.inl' | xargs clang-format -i

tidy: build
	find src -name '*.cpp' | xargs clang-tidy -p $(BUILD) --quiet

clean:
	rm -rf build
