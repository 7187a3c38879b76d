#!/usr/bin/env bash
# Checks a systemd unit with `systemd-analyze verify`, in a container without systemd as PID 1 and without
# installing anything: the unit is verified inside a throwaway root (--root) that holds a copy of the unit, the
# distribution's units (sysinit.target and the rest of the default dependencies, which verify loads) and a stand-in
# executable at every ExecStart path (verify refuses a unit whose command does not exist). --man=no skips the
# Documentation= check. verify exits 0 on some mistakes it only warns about (an unknown key, a bad value it
# ignores), so any output at all is a failure too.
# Usage: scripts/verify-unit.sh deploy/clpr.service
set -euo pipefail
unit=$1
name=$(basename "$unit")
root=$(mktemp -d /tmp/clpr-verify-unit.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/systemd/system" "$root/usr/lib/systemd"
cp "$unit" "$root/etc/systemd/system/$name"
cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/system"
for exe in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' "$unit"); do
    mkdir -p "$root$(dirname "$exe")"
    cp /bin/true "$root$exe"
done
if ! out=$(systemd-analyze verify --root="$root" --man=no "$name" 2>&1) || [ -n "$out" ]; then
    echo "$out" >&2
    echo "verify-unit: $unit: systemd-analyze verify failed" >&2
    exit 1
fi
echo "verify-unit: $unit: ok"
