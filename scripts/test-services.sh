#!/usr/bin/env bash
# Throwaway PostgreSQL 15 and Redis for the store and service tests, on free loopback ports
# (docs: /work/shared/TOOLCHAIN.md §4).
#   test-services.sh start   # (re)starts both, writes $STATE/env
#   test-services.sh env     # prints `export IDP_TEST_PG_DSN=...` / `export IDP_TEST_REDIS_URL=...`
#   test-services.sh stop    # stops both and removes $STATE
# Usage: bash scripts/test-services.sh start && source <(bash scripts/test-services.sh env)
# State lives in ${IDP_TEST_STATE:-/tmp/idp-test-services}; it must be a path the postgres user
# can reach when run as root (so not under /root). Works from any cwd, idempotent.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}  # not on PATH
STATE=${IDP_TEST_STATE:-/tmp/idp-test-services}
case "$STATE" in /*) ;; *) STATE="$PWD/$STATE" ;; esac

log() { echo "test-services: $*" >&2; }

# initdb and pg_ctl refuse to run as root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A TCP port nothing listens on right now (bound to port 0, then released).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

port_open() {  # port
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_port_closed() {  # port
  for _ in $(seq 100); do port_open "$1" || return 0; sleep 0.1; done
  log "port $1 still open"
  return 1
}

stop_services() {
  if [ -f "$STATE/redis/port" ]; then
    local rport
    rport=$(cat "$STATE/redis/port")
    redis-cli -h 127.0.0.1 -p "$rport" shutdown nosave >/dev/null 2>&1 || true
    wait_port_closed "$rport" || true
  fi
  if [ -f "$STATE/pg/data/postmaster.pid" ]; then
    (cd / && as_pg "$PGBIN/pg_ctl" -D "$STATE/pg/data" -m fast -w -t 30 stop >/dev/null) || true
  fi
  if [ -f "$STATE/pg/port" ]; then
    wait_port_closed "$(cat "$STATE/pg/port")" || true
  fi
  rm -rf "$STATE"
}

start_postgres() {
  local port
  mkdir -p "$STATE/pg"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$STATE/pg"; fi
  as_pg "$PGBIN/initdb" -D "$STATE/pg/data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
    >"$STATE/pg/initdb.log" 2>&1 || { log "initdb failed:"; cat "$STATE/pg/initdb.log" >&2; return 1; }
  # A port can be taken between choosing and binding it: try a few.
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    if as_pg "$PGBIN/pg_ctl" -D "$STATE/pg/data" -l "$STATE/pg/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $STATE/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      >/dev/null; then
      echo "$port" >"$STATE/pg/port"
      "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 10
      PG_PORT=$port
      return 0
    fi
  done
  log "postgres did not start:"
  tail -n 20 "$STATE/pg/server.log" >&2 || true
  return 1
}

start_redis() {
  local port
  mkdir -p "$STATE/redis"
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    echo "$port" >"$STATE/redis/port"
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$STATE/redis" \
      --daemonize yes --pidfile "$STATE/redis/redis.pid" --logfile "$STATE/redis/redis.log"
    for _ in $(seq 50); do
      if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then
        REDIS_PORT=$port
        return 0
      fi
      sleep 0.1
    done
  done
  log "redis did not start:"
  tail -n 20 "$STATE/redis/redis.log" >&2 || true
  return 1
}

start_services() {
  stop_services
  cd /  # the postgres user may not be able to enter the caller's cwd
  mkdir -p "$STATE"
  start_postgres
  start_redis
  {
    echo "export IDP_TEST_PG_DSN=postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
    echo "export IDP_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
  } >"$STATE/env.tmp"
  mv "$STATE/env.tmp" "$STATE/env"
  log "postgres on 127.0.0.1:$PG_PORT, redis on 127.0.0.1:$REDIS_PORT (state $STATE)"
}

case "${1:-}" in
  start) start_services ;;
  stop) stop_services ;;
  env)
    if [ ! -f "$STATE/env" ]; then
      log "not started (no $STATE/env); run: $0 start"
      exit 1
    fi
    cat "$STATE/env"
    ;;
  *)
    echo "usage: $0 start|stop|env   (state in \${IDP_TEST_STATE:-/tmp/idp-test-services})" >&2
    exit 2
    ;;
esac
