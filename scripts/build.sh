#!/usr/bin/env bash
# Configures and builds everything (Release, with tests) in build/. Used by `make run` and
# `make test`; ccache is shared by every clone on the machine (scripts/ccache-env.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/ccache-env.sh"
if [ ! -f "$root/build/build.ninja" ]; then
  cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
fi
jobs="${IDP_BUILD_JOBS:-$(nproc)}"
ninja -C "$root/build" -j "$jobs" "$@"
