#!/usr/bin/env bash
# The whole product on PostgreSQL + Azurite instead of the embedded SQLite and blob folder: starts both
# on 127.0.0.1 (the same idempotent scripts the tests use), creates the database `flowgate` once, and
# runs the web host with the provider settings. Arguments go first to the host, so the same script runs
# `scripts/run-on-postgres.sh --urls http://localhost:5001` or `scripts/run-on-postgres.sh create-tenant acme`.
# Work stays on the SQL queue (the work_items table, now in PostgreSQL) run by the embedded workers:
# the Storage-queue transport needs the Functions host, which does not run locally.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/services/10-postgres.sh
bash tests/services/30-azurite.sh
set -a; . tests/services/.env; set +a

port=$(sed -n 's/.*Port=\([0-9]*\).*/\1/p' <<< "$FLOWGATE_TEST_POSTGRES")
if ! psql -h 127.0.0.1 -p "$port" -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'flowgate'" | grep -q 1; then
  psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE flowgate"
fi

exec dotnet run --project src/Web -- "$@" \
  --Flowgate:Database:Provider=postgres \
  "--ConnectionStrings:Flowgate=Host=127.0.0.1;Port=$port;Username=postgres;Database=flowgate" \
  --Flowgate:Blobs:Provider=azure \
  "--ConnectionStrings:Blobs=$AZURITE_CONNECTION_STRING"
