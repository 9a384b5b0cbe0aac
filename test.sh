#!/usr/bin/env bash
# The whole test suite, from a clean clone: builds everything in Release and runs every test project.
# Installs and starts whatever the tests need first (idempotent); today that is nothing beyond the .NET SDK.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Saas.sln -c Release -nologo -clp:ErrorsOnly
dotnet test Saas.sln -c Release --no-build -nologo --logger "console;verbosity=minimal" "$@"
