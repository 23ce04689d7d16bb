#!/usr/bin/env bash
# The libFuzzer targets of fuzz/ (issue 7): builds them with clang-14 and
# -fsanitize=fuzzer,address,undefined in build-fuzz/ (only the libraries they need, no
# services), then runs each for a bounded time, each on a scratch copy of its seed corpus.
#
#   scripts/fuzz.sh                 every target, FUZZ_SECONDS each (default 60: `make fuzz`)
#   FUZZ_SECONDS=5 scripts/fuzz.sh  the short run of `make test`
#   scripts/fuzz.sh jws contact     only these targets
#   scripts/fuzz.sh --build-only    build, run nothing
#
# A crash, a sanitizer report or a broken invariant (FUZZ_CHECK) fails the target; the input is
# kept in build-fuzz/artifacts/<target>/ and `build-fuzz/fuzz/fuzz_<target> <file>` replays it. New
# inputs the fuzzer finds stay in build-fuzz/corpus/<target>/ (copy good ones into
# fuzz/corpus/<target>/ by hand). Ends with "fuzz: N passed, M failed".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source "$root/scripts/ccache-env.sh"

seconds="${FUZZ_SECONDS:-60}"
build_only=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --build-only) build_only=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) targets+=("$arg") ;;
  esac
done

bdir="$root/build-fuzz"
if [ ! -f "$bdir/build.ninja" ]; then
  CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$bdir" -G Ninja -DIDP_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
fi
ninja -C "$bdir" -j "${IDP_BUILD_JOBS:-$(nproc)}" $(for t in "${targets[@]}"; do echo "fuzz_$t"; done)
[ "$build_only" = 1 ] && exit 0

if [ ${#targets[@]} -eq 0 ]; then
  for f in "$root"/fuzz/*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

passed=0
failed=0
for t in "${targets[@]}"; do
  exe="$bdir/fuzz/fuzz_$t"
  work="$bdir/corpus/$t"
  artifacts="$bdir/artifacts/$t"
  mkdir -p "$work" "$artifacts"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  [ -f "$root/fuzz/dict/$t.dict" ] && args+=(-dict="$root/fuzz/dict/$t.dict")
  seeds=()
  [ -d "$root/fuzz/corpus/$t" ] && seeds+=("$root/fuzz/corpus/$t")
  echo "== fuzz_$t (${seconds}s)"
  log="$bdir/fuzz_$t.log"
  if "$exe" "${args[@]}" "$work" "${seeds[@]}" >"$log" 2>&1; then
    echo "   ok: $(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo '?') runs," \
         "$(find "$work" -type f | wc -l) inputs in corpus"
    passed=$((passed + 1))
  else
    echo "   FAILED (log: $log, input in $artifacts/):"
    grep -E 'ERROR|invariant failed|SUMMARY|runtime error|Test unit written' "$log" | head -20 | sed 's/^/   /'  || true
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
