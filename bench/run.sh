#!/usr/bin/env bash
# The whole benchmark: Flowgate three-step runs, CSV throughput, Node-RED comparison, AI gateway (direct,
# Flowgate, Portkey), summary. Installs what it needs (wrk with apt, Node 24 + Node-RED + Portkey with npm into
# bench/.tools) and builds the web host in Release.
# Options: --only runs|csv|nodered|gateway[,...]  --csv-mb 1024  --duration 15  (see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
exec dotnet run -c Release --project bench/Saas.Bench -- "$@"
