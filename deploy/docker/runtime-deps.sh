#!/usr/bin/env bash
# runtime-deps.sh BINARY... — prints, one a line, the Debian packages that hold the shared
# libraries the binaries load (ldd, then dpkg -S). The image's build stage runs it so that the
# runtime stage installs exactly those: no compiler, no -dev package, nothing to keep in step by
# hand when a service starts using a new library. tests/e2e/ops_compose.test.mjs runs it on the
# binaries in build/ and checks that the closure of what it prints has no compiler.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: runtime-deps.sh BINARY..." >&2; exit 2; }
mapfile -t libs < <(ldd "$@" | awk '/=> \// { print $3 } /^\t\/.*\(0x/ { print $1 }' | sort -u)
mapfile -t reals < <(readlink -f "${libs[@]}")
# Debian 12 merges /lib into /usr/lib, and dpkg knows each file by one of its names: ask for
# every spelling, in one dpkg -S (it reads the whole package database each time).
spellings=()
for i in "${!libs[@]}"; do
  for p in "${libs[$i]}" "${reals[$i]}"; do
    spellings+=("/usr${p#/usr}" "${p#/usr}")
  done
done
declare -A owner
while IFS= read -r line; do
  pkg="${line%%: /*}"
  pkg="${pkg%%,*}"
  owner["/${line#*: /}"]="${pkg%%:*}"
done < <(dpkg -S "${spellings[@]}" 2>/dev/null || true)
declare -A out
for i in "${!libs[@]}"; do
  found=""
  for p in "${libs[$i]}" "${reals[$i]}"; do
    for s in "/usr${p#/usr}" "${p#/usr}"; do
      [ -z "$found" ] && found="${owner[$s]:-}"
    done
  done
  [ -n "$found" ] || { echo "runtime-deps: no package holds ${libs[$i]}" >&2; exit 1; }
  out["$found"]=1
done
printf '%s\n' "${!out[@]}" | sort
