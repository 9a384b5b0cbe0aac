#!/usr/bin/env bash
# Azurite (the Azure Storage emulator) on 127.0.0.1: blob 10000, queue 10001, table 10002.
# Installs azurite 3.35.0 into .tools/azurite once (3.37+ needs Node >= 22), starts it unless it
# already answers, and exports AZURITE_CONNECTION_STRING for the blob and queue adapter tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD/.tools/azurite"
bin="$root/node_modules/.bin/azurite"
mkdir -p "$root/data"

if [ ! -x "$bin" ]; then
  echo "installing azurite 3.35.0 into $root"
  npm install --prefix "$root" --no-audit --no-fund --loglevel=error azurite@3.35.0 >/dev/null
fi

answers() { curl -s -o /dev/null --max-time 1 "http://127.0.0.1:10000/devstoreaccount1?comp=list"; }

if ! answers; then
  # --skipApiVersionCheck: Azure.Storage.Blobs 12.30 sends an API version this Azurite does not know.
  nohup "$bin" --silent --loose --skipApiVersionCheck --location "$root/data" \
    --blobHost 127.0.0.1 --blobPort 10000 --queueHost 127.0.0.1 --queuePort 10001 --tableHost 127.0.0.1 --tablePort 10002 \
    > "$root/azurite.log" 2>&1 &
  for _ in $(seq 1 100); do
    answers && break
    sleep 0.1
  done
  answers || { echo "azurite did not start; see $root/azurite.log" >&2; tail -20 "$root/azurite.log" >&2; exit 1; }
fi

key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
# Quoted: test.sh sources this file, and the value holds semicolons.
echo "AZURITE_CONNECTION_STRING='DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;'" >> tests/services/.env
echo "azurite answers on 127.0.0.1:10000-10002"
