#!/usr/bin/env bash
# PostgreSQL 15 on 127.0.0.1 for the PostgreSQL adapter tests. Installs Debian's postgresql once (the
# image usually has it), creates a cluster under .tools/postgres (trust auth, loopback only), starts it
# unless it is already running, and exports FLOWGATE_TEST_POSTGRES. Tests create a database of their
# own per test class (flowgate_test_<guid>) and drop it afterwards. Port 5432, or the next free one.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD/.tools/postgres"
pgbin=/usr/lib/postgresql/15/bin

if [ ! -x "$pgbin/pg_ctl" ]; then
  echo "installing postgresql (Debian package)"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq postgresql >/dev/null; fi
fi

# As root the server runs as the postgres user (initdb refuses root); otherwise as whoever runs this.
as_owner() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$1"; else bash -c "$1"; fi
}

mkdir -p "$root"
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$root"
  # The server must be able to reach its directory through the checkout's parents.
  d="$root"; while [ "$d" != / ]; do d=$(dirname "$d"); chmod o+x "$d" 2>/dev/null || true; done
fi

if [ ! -f "$root/data/PG_VERSION" ]; then
  as_owner "$pgbin/initdb -D '$root/data' -U postgres --auth=trust -E UTF8 --no-locale" >/dev/null
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if as_owner "$pgbin/pg_ctl -D '$root/data' status" >/dev/null 2>&1; then
  port=$(cat "$root/port")
else
  port=5432
  while ! port_free "$port"; do port=$((port + 1)); done
  echo "$port" > "$root/port"
  as_owner "$pgbin/pg_ctl -D '$root/data' -l '$root/log' -o \"-c listen_addresses=127.0.0.1 -p $port -k '$root' -c max_connections=300\" -w -t 30 start" >/dev/null \
    || { echo "postgresql did not start; see $root/log" >&2; tail -20 "$root/log" >&2; exit 1; }
fi

echo "FLOWGATE_TEST_POSTGRES='Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres'" >> tests/services/.env
echo "postgresql answers on 127.0.0.1:$port"
