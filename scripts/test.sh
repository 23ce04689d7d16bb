#!/usr/bin/env bash
# `make test`: installs what is missing, builds, starts throwaway PostgreSQL and Redis on free
# loopback ports, and runs every test: the C++ unit and database tests through ctest, then the
# end-to-end tests (openid-client against the whole stack) with node's test runner, then each
# libFuzzer target for a few seconds (FUZZ_SECONDS, default 5; `make fuzz` runs them longer).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bash scripts/install-deps.sh
echo "building..."
bash scripts/build.sh

export IDP_TEST_STATE="/tmp/idp-test-services-$$"
trap 'bash scripts/test-services.sh stop >/dev/null 2>&1 || true' EXIT
bash scripts/test-services.sh start
source <(bash scripts/test-services.sh env)

logs="$root/build/test-logs"
mkdir -p "$logs"
status=0

echo "== C++ unit and database tests (ctest)"
ctest --test-dir build --output-on-failure -j "$(nproc)" 2>&1 | tee "$logs/ctest.log" || status=1

echo "== end-to-end tests (node --test)"
(cd tests/e2e && node --test --test-concurrency=1 --test-reporter=tap ./*.test.mjs) 2>&1 \
  | tee "$logs/e2e.log" || status=1

echo "== fuzz targets, ${FUZZ_SECONDS:-5} s each (scripts/fuzz.sh)"
FUZZ_SECONDS="${FUZZ_SECONDS:-5}" bash scripts/fuzz.sh 2>&1 | tee "$logs/fuzz.log" || status=1

# One closing line for the whole run.
read -r c_pass c_fail < <(python3 - "$logs/ctest.log" "$logs/e2e.log" "$logs/fuzz.log" <<'PY'
import re, sys
ctest = open(sys.argv[1]).read()
m = re.search(r"(\d+)% tests passed, (\d+) tests failed out of (\d+)", ctest)
cp, cf = (int(m.group(3)) - int(m.group(2)), int(m.group(2))) if m else (0, 1)
e2e = open(sys.argv[2]).read()
ep = re.findall(r"^# pass (\d+)", e2e, re.M)
ef = re.findall(r"^# fail (\d+)", e2e, re.M)
ep, ef = (int(ep[-1]), int(ef[-1])) if ep and ef else (0, 1)
fuzz = open(sys.argv[3]).read()
m = re.search(r"^fuzz: (\d+) passed, (\d+) failed", fuzz, re.M)
fp, ff = (int(m.group(1)), int(m.group(2))) if m else (0, 1)
print(cp + ep + fp, cf + ef + ff)
PY
)
[ "$c_fail" = 0 ] || status=1
echo "tests: $c_pass passed, $c_fail failed"
exit "$status"
