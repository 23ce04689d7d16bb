#!/usr/bin/env bash
# The single list of system dependencies (Debian 12). Idempotent: a second run installs nothing.
# Used by `make run`, `make test`, CI and the container build stage.
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config make git openssl ca-certificates curl python3
  # libraries (Boost 1.81: never add a -dev package that pulls in libboost-dev, see docs/development.md)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libssl-dev libhiredis-dev libpqxx-dev libspdlog-dev libfmt-dev
  libsodium-dev libtomlplusplus-dev libcli11-dev libkainjow-mustache-dev
  liboath-dev libqrencode-dev   # mfa: TOTP (RFC 6238) and QR codes
  libcurl4-openssl-dev   # delivery: SMTP and the SMS provider API
  libutf8proc-dev        # auth: NFKC normalisation of passwords
  clang-14 libclang-rt-14-dev   # scripts/fuzz.sh: libFuzzer with ASan and UBSan
  libphonenumber8 libgeocoding8 libicu-dev   # libs/phone: runtime only; headers below (libphonenumber-dev pulls in Boost 1.74)
  catch2
  # servers the stack and its tests run against
  postgresql redis-server redis-tools
  # end-to-end tests
  python3-aiosmtpd   # the SMTP server the delivery tests send to
  oathtool           # an independent TOTP implementation for the MFA tests
  chromium           # the real browser of the page tests (driven by playwright-core)
  nodejs   # the image's nodejs ships npm; Debian's npm package conflicts with it
  docker-compose python3-yaml   # ops tests: compose parses without an engine; deploy/k8s YAML
  # make bench: callgrind and strace for its profile (perf has no hardware counters on these VMs)
  valgrind strace
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libphonenumber's headers: libphonenumber-dev depends on Boost 1.74's -dev packages, which
# conflict with libboost1.81-dev, so its files are unpacked (not installed) into a fixed prefix
# that cmake/Phonenumber.cmake reads; the library itself is the runtime package above. Redone
# when the runtime package's version changes.
PHONE_PREFIX="${IDP_PHONENUMBER_PREFIX:-/opt/idp/phonenumber}"
phone_version="$(dpkg-query -W -f='${Version}' libphonenumber8)"
if [ "$(cat "$PHONE_PREFIX/.version" 2>/dev/null || true)" != "$phone_version" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  tmp="$(mktemp -d)"
  (cd "$tmp" && apt-get download "libphonenumber-dev=$phone_version" >/dev/null 2>&1) || {
    $SUDO apt-get update -qq
    (cd "$tmp" && apt-get download "libphonenumber-dev=$phone_version" >/dev/null)
  }
  $SUDO rm -rf "$PHONE_PREFIX"
  $SUDO mkdir -p "$PHONE_PREFIX"
  $SUDO dpkg-deb -x "$tmp"/libphonenumber-dev_*.deb "$PHONE_PREFIX"
  echo "$phone_version" | $SUDO tee "$PHONE_PREFIX/.version" >/dev/null
  rm -rf "$tmp"
  echo "install-deps: libphonenumber $phone_version headers in $PHONE_PREFIX"
fi

# Node packages (pinned by each folder's package-lock.json): the end-to-end tests and the demo
# applications of `make run`, reinstalled whenever a lock file changes.
here="$(cd "$(dirname "$0")/.." && pwd)"
for dir in "$here/tests/e2e" "$here/deploy/demo-apps"; do
  [ -f "$dir/package-lock.json" ] || continue
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  have="$(cat "$dir/node_modules/.lock-sha256" 2>/dev/null || true)"
  if [ "$want" != "$have" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$dir/node_modules/.lock-sha256"
  fi
done
