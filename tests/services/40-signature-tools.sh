#!/usr/bin/env bash
# openssl and python3, the independent implementations the webhook signature tests check Flowgate's
# HMAC against (python3 runs the verification snippet from the README). Exports FLOWGATE_OPENSSL and FLOWGATE_PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../.."
missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
{
  echo "FLOWGATE_OPENSSL=$(command -v openssl)"
  echo "FLOWGATE_PYTHON=$(command -v python3)"
} >> tests/services/.env
