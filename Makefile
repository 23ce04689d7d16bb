# The two commands of the README. Everything else lives in scripts/.
.PHONY: run test build clean bench

run:
	@bash deploy/run.sh

test:
	@bash scripts/test.sh

build:
	@bash scripts/build.sh

# The side-by-side benchmark against node-oidc-provider (docs/benchmarks.md); never part of test.
bench:
	@bash bench/run.sh

clean:
	rm -rf build
