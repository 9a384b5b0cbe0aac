#!/usr/bin/env bash
# The whole test suite, from a clean clone: builds everything in Release and runs every test project.
# First it installs and starts what the tests need (each tests/services/*.sh is idempotent and exports
# what it started into tests/services/.env, which the tests read).
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
: > tests/services/.env
for service in tests/services/*.sh; do
  [ -e "$service" ] || continue
  echo "== ${service#tests/services/}"
  bash "$service"
done
set -a; . tests/services/.env; set +a
dotnet build Saas.sln -c Release -nologo -clp:ErrorsOnly
dotnet test Saas.sln -c Release --no-build -nologo --logger "console;verbosity=minimal" "$@"
