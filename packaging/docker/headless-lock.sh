#!/bin/sh
# Print a lock file without the packages named in an exclude list (the headless node's lock).
#
#   sh packaging/docker/headless-lock.sh packaging/requirements/main.lock.txt \
#       packaging/docker/headless-exclude.txt > headless.lock.txt
#
# Drops every line "NAME==..." whose NAME (case-insensitive) is listed in the exclude file, keeps
# every other line unchanged, and fails when an excluded name matches no line of the lock: a
# package renamed in the lock (say PySide6_Essentials -> PySide6-Essentials) then breaks the
# build instead of quietly installing Qt again. The Dockerfile runs exactly this script.
set -eu
lock=$1
exclude=$2
patterns=$(mktemp)
trap 'rm -f "$patterns"' EXIT

# One anchored pattern per excluded name: comments and blanks removed, dots escaped.
sed -e 's/#.*//' -e 's/[[:space:]]//g' "$exclude" | grep -v '^$' \
    | sed -e 's/\./\\./g' -e 's/.*/^&==/' > "$patterns"

missing=""
while IFS= read -r pattern; do
    name=${pattern#^}
    grep -qi -e "$pattern" "$lock" || missing="$missing ${name%==}"
done < "$patterns"
if [ -n "$missing" ]; then
    echo "headless-lock.sh: excluded but not in $lock:$missing" >&2
    exit 1
fi

grep -v -i -f "$patterns" "$lock"
