#!/usr/bin/env bash
# Creates (or keeps) a cached Python venv holding exactly the given pinned packages.
#
#   scripts/venv.sh DIR PACKAGE...
#
# The package list is written to DIR/.bp-packages; a venv whose list matches is left alone,
# any other is rebuilt from scratch, so a changed pin never leaves old packages behind.
set -euo pipefail
dir="$1"; shift
want="$*"
if [ -f "$dir/.bp-packages" ] && [ "$(cat "$dir/.bp-packages")" = "$want" ]; then exit 0; fi
printf '[venv] creating %s (%s)\n' "$dir" "$want" >&2
rm -rf "$dir"
python3 -m venv "$dir"
"$dir/bin/pip" install -q --upgrade pip >/dev/null
"$dir/bin/pip" install -q "$@"
echo "$want" > "$dir/.bp-packages"
