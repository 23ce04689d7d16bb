#!/usr/bin/env bash
# `make bench`: the side-by-side benchmark (docs/benchmarks.md). Builds our services (Release)
# and the load driver, installs the reference (node-oidc-provider 9 with its own Node 22, from
# npm) into a temporary folder, starts a throwaway PostgreSQL and Redis, runs bench/bench.mjs,
# and stops everything it started. Writes bench/results/<date>.{md,json}. Never part of
# `make test`. About 8 minutes on 2 cores.
#   BENCH_QUICK=1      one short load per scenario (tries the harness; not a result)
#   BENCH_ONLY=cc,jwks only these scenarios (ids: cc code-rs256 code-es256 refresh login discovery jwks)
#   IDP_BENCH_TMP=DIR  the temporary folder (default /tmp/idp-bench; the postgres user must reach it)
# `bash bench/run.sh profile [scenario]` profiles one scenario of ours with callgrind instead
# (bench/profile.mjs; default code-es256) and writes bench/results/profile-<scenario>-<date>.md;
# with BENCH_PROFILE_TOOL=perf, perf time samples at the scenario's top load instead
# (bench/results/perf-<scenario>-<date>.md), with BENCH_PROFILE_TOOL=strace system calls only.
set -euo pipefail
mode=bench
if [ "${1:-}" = profile ]; then
  mode=profile
  export BENCH_PROFILE="${2:-code-es256}"
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
tmp="${IDP_BENCH_TMP:-/tmp/idp-bench}"
mkdir -p "$tmp"
chmod 755 "$tmp"

# One benchmark at a time on a machine: two would measure each other.
exec 9>"$tmp/lock"
flock -n 9 || { echo "bench: another benchmark is running (lock $tmp/lock)" >&2; exit 1; }

bash scripts/install-deps.sh

# One build at a time on this machine: wait for a build someone else started.
while pgrep -x ninja >/dev/null; do echo "bench: waiting for a running build to finish..."; sleep 10; done
echo "bench: building the services (Release)"
bash scripts/build.sh idp-auth idp-mfa idp-delivery idp-token idp-gateway idpctl
# A snapshot of the binaries, so that a rebuild during the run cannot change what is measured.
rm -rf "$tmp/bin" && mkdir -p "$tmp/bin"
for s in auth mfa delivery token gateway; do cp "build/services/$s/idp-$s" "$tmp/bin/"; done
cp build/tools/idpctl/idpctl "$tmp/bin/"

echo "bench: building the load driver"
source scripts/ccache-env.sh
if [ ! -f bench/.build/build.ninja ]; then
  cmake -S bench/driver -B bench/.build -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
fi
ninja -C bench/.build >/dev/null

# The reference, pinned by bench/reference/package-lock.json, installed outside the repository.
ref="$tmp/reference"
if [ "$mode" = bench ]; then
  mkdir -p "$ref"
  if ! cmp -s bench/reference/package-lock.json "$ref/package-lock.json" || [ ! -x "$ref/node_modules/.bin/node" ]; then
    echo "bench: installing the reference (oidc-provider, Node 22) into $ref"
    cp bench/reference/package.json bench/reference/package-lock.json "$ref/"
    (cd "$ref" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  cp bench/reference/server.mjs "$ref/"
fi

export IDP_TEST_STATE="$tmp/services"
trap 'bash scripts/test-services.sh stop >/dev/null 2>&1 || true' EXIT
# (9>&-: the servers started from here must not inherit the lock.)
bash scripts/test-services.sh start 9>&-
source <(bash scripts/test-services.sh env)

export BENCH_DRIVER="$root/bench/.build/idp-bench-driver" BENCH_BIN="$tmp/bin" BENCH_TMP="$tmp"
if [ "$mode" = profile ]; then
  timeout --signal=TERM 1500 node bench/profile.mjs 9>&-
  exit
fi
rm -rf "$tmp/logs"
BENCH_REF_DIR="$ref" \
BENCH_PG_PIDFILE="$IDP_TEST_STATE/pg/data/postmaster.pid" \
BENCH_REDIS_PIDFILE="$IDP_TEST_STATE/redis/redis.pid" \
  timeout --signal=TERM 1500 node bench/bench.mjs 9>&-
