# Sourced by the build scripts: one ccache shared by every clone on this machine (CI clones to a
# new folder each run), with PCH-safe sloppiness (docs/development.md).
export CCACHE_DIR="${CCACHE_DIR:-/var/cache/idp-ccache}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
mkdir -p "$CCACHE_DIR"
