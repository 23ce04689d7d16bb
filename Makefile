# The two commands of the README. Everything else lives in scripts/.
.PHONY: run test build clean

run:
	@bash deploy/run.sh

test:
	@bash scripts/test.sh

build:
	@bash scripts/build.sh

clean:
	rm -rf build
