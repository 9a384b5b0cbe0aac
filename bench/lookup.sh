#!/usr/bin/env bash
# The lookup benchmark: joins 2,000,000 records against a 1,000,000-row reference table and prints records/s.
# Options: --rows 1000000  --records 2000000  --chunk-size 50000  (see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
exec dotnet run -c Release --project bench/Lookup -- "$@"
