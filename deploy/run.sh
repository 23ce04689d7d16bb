#!/usr/bin/env bash
# `make run`: the whole product on this machine. Installs what is missing, builds (Release),
# starts PostgreSQL and Redis on loopback with their data under var/, starts the four services
# and the gateway, seeds the demo user and applications, and prints where to go.
# Ctrl-C stops everything; a second run keeps the data of the first.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/lib-servers.sh

bash scripts/install-deps.sh
echo "building (Release)..."
bash scripts/build.sh idp-auth idp-mfa idp-delivery idp-token idp-gateway idpctl

var="$root/var"
mkdir -p "$var/log"
export IDP_CONFIG="$root/deploy/idp.toml"
PG_PORT=5433 REDIS_PORT=6380

# The master key seals the signing keys: made once, kept with the data it protects.
if [ -z "${IDP_MASTER_KEY:-}" ]; then
  [ -f "$var/master.key" ] || (umask 077 && openssl rand -hex 32 >"$var/master.key")
  IDP_MASTER_KEY="$(cat "$var/master.key")"
fi
export IDP_MASTER_KEY

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  redis_stop "$REDIS_PORT"
  pg_stop "$var/postgres"
  echo "stopped; data kept in var/"
}
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

pg_start "$var/postgres" "$PG_PORT" "$var/log/postgres.log"
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='idp'" | grep -q 1 \
  || psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE idp"
redis_start "$var/redis" "$REDIS_PORT" --appendonly yes --appendfsync everysec

# Each service in a session of its own: Ctrl-C reaches this script only, which then stops
# them in order with SIGTERM.
for svc in auth mfa delivery token gateway; do
  setsid "$root/build/services/$svc/idp-$svc" >>"$var/log/$svc.log" 2>&1 &
  pids+=($!)
done

echo -n "waiting for the stack"
for _ in $(seq 150); do
  curl -fsS http://127.0.0.1:8080/readyz >/dev/null 2>&1 && break
  echo -n "."; sleep 0.2
done
echo
curl -fsS http://127.0.0.1:8080/readyz >/dev/null || { echo "the stack did not become ready; see var/log/" >&2; exit 1; }

bash deploy/seed-demo.sh "$root/build/tools/idpctl/idpctl"
# The six demo applications, real OpenID Connect clients on ports 3001-3006.
setsid node deploy/demo-apps/server.mjs "$var/demo-clients.json" >>"$var/log/demo-apps.log" 2>&1 &
pids+=($!)

cat <<TXT

  The identity portal is running:  http://localhost:8080/
  Demo user:                       demo / demo-password
  Demo applications:               http://localhost:3001/ ... :3006/ (also on the portal)
  Logs (JSON lines):               var/log/
  Prometheus metrics:              http://127.0.0.1:7100/metrics (gateway), :7101-:7104 (services)

  Press Ctrl-C to stop.
TXT
wait -n "${pids[@]}" || true
echo "a service exited unexpectedly; see var/log/" >&2
exit 1
