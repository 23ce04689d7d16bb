# Sourced helpers to run PostgreSQL 15 and Redis from Debian's packages on loopback, as root or
# not (TOOLCHAIN.md §4). Used by deploy/run.sh (data kept under var/) and scripts/test-services.sh.
PGBIN=/usr/lib/postgresql/15/bin

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# pg_start DATA_DIR PORT LOG [extra -c options...]: initialises DATA_DIR if empty, then starts.
pg_start() {
  local data="$1" port="$2" log="$3"; shift 3
  mkdir -p "$data"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$data" && chmod 700 "$data"
  if [ ! -f "$data/PG_VERSION" ]; then
    (cd / && as_pg "$PGBIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale >"$log.initdb" 2>&1)
  fi
  touch "$log"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$log"
  # setsid: the server must not get the terminal's Ctrl-C; the caller stops it in order.
  (cd / && as_pg setsid --wait "$PGBIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $data $*" >/dev/null)
}

pg_stop() {
  local data="$1"
  [ -f "$data/postmaster.pid" ] && (cd / && as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1) || true
}

# redis_start DIR PORT [extra options...]
redis_start() {
  local dir="$1" port="$2"; shift 2
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "$@"
  for _ in $(seq 100); do [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && return 0; sleep 0.1; done
  echo "redis did not start on port $port" >&2; return 1
}

redis_stop() {
  local port="$1"
  redis-cli -p "$port" shutdown >/dev/null 2>&1 || true
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 || return 0; sleep 0.1; done
}

# A free TCP port on loopback.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
