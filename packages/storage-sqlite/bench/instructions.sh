#!/usr/bin/env bash
# Instructions per call of a hot path (crmkit or the raw baseline) under valgrind: a measure that does
# not move with the machine's load, for A/B work on a shared machine (issue 17). count-ab.ts runs N
# calls after a warm-up; the difference between a run of 2N and one of N calls, divided by N, is the
# cost of one call (startup, warm-up and JIT compilation cancel out).
#
#   bench/instructions.sh FILE crmkit|raw get|advance [N] [stage]
#
# FILE: a database made by `pnpm bench -- --engines sqlite --work DIR` (tenant "bench"); each run works
# on a fresh copy of it (advance changes it). Needs valgrind.
set -euo pipefail
file=$1 side=$2 what=$3 n=${4:-200} stage=${5:-qualified}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bundle="$here/.count-ab.bundle.mjs"
npx esbuild "$here/count-ab.ts" --bundle --platform=node --format=esm --outfile="$bundle" --external:better-sqlite3 --log-level=warning \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
count() {
  cp "$file" "$work/db"
  rm -f "$work/db-wal" "$work/db-shm"
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null node "$bundle" "$work/db" "$side" "$what" "$1" "$stage" 2>&1 |
    sed -n 's/.*I *refs: *//p' | tr -d ,
}
one=$(count "$n")
two=$(count $((2 * n)))
rm -f "$bundle"
echo "$side $what: $(((two - one) / n)) instructions per call ($n vs $((2 * n)) calls: $one, $two)"
