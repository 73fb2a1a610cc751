# The two commands of README.md: `make run` and `make test`. Both set up and build first.
PRESET ?= release
BUILD := build/$(PRESET)
FUZZ_SECONDS ?= 5

.PHONY: setup build run test test-unit test-asan test-fuzz bench bench-portable bench-python bench-exchange bench-blas format tidy clean

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

test-fuzz: setup
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz
	bash tests/fuzz/run_all.sh build/fuzz $(FUZZ_SECONDS)

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

# The training step with OpenBLAS against Debian's reference BLAS (docs/benchmarks.md).
bench-blas: build
	bash bench/blas_step.sh $(BUILD)

format:
	find src tests bench python -name '*.hpp' -o -name '*.cpp' -o -name '*.inl' | xargs clang-format -i

tidy: build
	find src -name '*.cpp' | xargs clang-tidy -p $(BUILD) --quiet

clean:
	rm -rf build
