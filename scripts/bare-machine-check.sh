#!/usr/bin/env bash
# Runs .ci/run on a fresh clone of this repository as if the machine had nothing but Node: in a private
# mount namespace (Linux, as root) that hides the system PostgreSQL, any system Chromium and the
# libraries it needs (NSS, NSPR), the system fonts and the `postgres` OS user, with CRMKIT_NO_SYSTEM_FALLBACK=1, an empty pnpm store
# and a private TMPDIR. Usage: scripts/bare-machine-check.sh [BRANCH [COMMAND]]
# (default: the current branch and .ci/run; e.g. COMMAND='pnpm install --frozen-lockfile && pnpm test').
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "run as root (it uses unshare -m and bind mounts)" >&2; exit 1; }
repo="$(cd "$(dirname "$0")/.." && pwd)"
branch="${1:-$(git -C "$repo" rev-parse --abbrev-ref HEAD)}"
command="${2:-.ci/run}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone --quiet --branch "$branch" "$repo" "$work/fresh"

mkdir -p "$work/empty" "$work/tmp" "$work/store"
: > "$work/not-a-library"
grep -v '^postgres:' /etc/passwd > "$work/passwd"

unshare -m --propagation private bash -euo pipefail -c '
  work="$1"
  command="$2"
  hide_dir() { [ -d "$1" ] && mount --bind "$work/empty" "$1" || true; }
  hide_file() { [ -e "$1" ] && mount --bind "$work/not-a-library" "$1" || true; }
  hide_dir /usr/lib/postgresql            # also leaves /usr/local/bin/{initdb,pg_ctl,postgres} dangling
  for bin in initdb pg_ctl postgres; do hide_file "/usr/local/bin/$bin"; done
  for lib in /usr/lib/x86_64-linux-gnu/lib{nss3,nssutil3,smime3,nspr4,plc4,plds4,softokn3,freebl3}.so; do hide_file "$lib"; done
  hide_dir /usr/share/fonts
  for c in /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do hide_file "$c"; done
  hide_dir /usr/lib/chromium
  mount --bind "$work/passwd" /etc/passwd
  for c in chromium chromium-browser google-chrome; do ! "$c" --version >/dev/null 2>&1 || { echo "a system $c still runs" >&2; exit 1; }; done
  ! id postgres >/dev/null 2>&1 || { echo "the postgres user is still visible" >&2; exit 1; }
  cd "$work/fresh"
  unset XDG_CACHE_HOME CRMKIT_CHROMIUM CRMKIT_PG_BIN CRMKIT_TEST_POSTGRES_URL
  export CRMKIT_NO_SYSTEM_FALLBACK=1 TMPDIR="$work/tmp" npm_config_store_dir="$work/store"
  start=$(date +%s)
  bash -euo pipefail -c "$command"
  echo "bare-machine run of \"$command\" passed in $(( $(date +%s) - start )) s"
' bash "$work" "$command"
