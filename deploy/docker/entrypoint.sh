#!/usr/bin/env bash
# The image's entrypoint: turns secret files into environment variables, then runs the command.
# Each file in $IDP_SECRETS_DIR (default /run/secrets, where docker-compose and Kubernetes mount
# secrets) whose name is an IDP_* variable or PGPASSWORD becomes that variable, unless the
# environment already sets it. So IDP_MASTER_KEY, PGPASSWORD (libpq reads it: the DSN needs no
# password), IDP_DELIVERY_SMTP_PASSWORD, ... never appear in a compose file or a manifest.
set -euo pipefail
dir="${IDP_SECRETS_DIR:-/run/secrets}"
if [ -d "$dir" ]; then
  for file in "$dir"/*; do
    [ -f "$file" ] || continue
    name="$(basename "$file")"
    [[ "$name" =~ ^(IDP_[A-Z0-9_]+|PGPASSWORD)$ ]] || continue
    [ -z "${!name:-}" ] || continue
    value="$(cat "$file")"  # without the trailing newline
    export "$name=$value"
  done
fi
[ $# -gt 0 ] || { echo "usage: entrypoint COMMAND [ARGS...] (idp-auth, idp-gateway, idpctl, ...)" >&2; exit 2; }
exec "$@"
