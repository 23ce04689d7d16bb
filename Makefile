# The two commands of the README. Everything else lives in scripts/.
.PHONY: run test build clean bench fuzz

run:
	@bash deploy/run.sh

test:
	@bash scripts/test.sh

build:
	@bash scripts/build.sh

# Every libFuzzer target of fuzz/ for FUZZ_SECONDS each (default 60); `make test` runs them for 5 s.
fuzz:
	@bash scripts/install-deps.sh
	@bash scripts/fuzz.sh

# The side-by-side benchmark against node-oidc-provider (docs/benchmarks.md); never part of test.
bench:
	@bash bench/run.sh

clean:
	rm -rf build build-fuzz
