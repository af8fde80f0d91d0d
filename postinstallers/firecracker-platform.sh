#!/bin/sh
# Runs once after a host install: provisions the host for firecracker microVMs with
# kfc-provision and logs to /var/log/kldload-postinstall-firecracker.log. The steps and
# their checks live in kfc-provision; this script only runs it and passes its status on.
#
# Environment: KFC_PROVISION (default /usr/local/bin/kfc-provision, else from PATH),
# KFC_HOST_CONFIG (default /etc/kfc/host.yaml), KFC_POSTINSTALL_LOG (default above).
# Extra arguments are passed to `kfc-provision apply`, such as --from DIR or --root DIR.
set -u

log=${KFC_POSTINSTALL_LOG:-/var/log/kldload-postinstall-firecracker.log}
config=${KFC_HOST_CONFIG:-/etc/kfc/host.yaml}
provision=${KFC_PROVISION:-/usr/local/bin/kfc-provision}
[ -x "$provision" ] || provision=$(command -v kfc-provision) || provision=

mkdir -p "$(dirname "$log")"
note() { printf '%s firecracker-platform: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$log"; }

if [ -z "$provision" ]; then
    note "kfc-provision not found; install it to /usr/local/bin or set KFC_PROVISION"
    echo "firecracker-platform: kfc-provision not found (see $log)" >&2
    exit 1
fi

note "started: $provision apply --config $config $*"
# kfc-provision appends its own log lines to the file and its results go there too. Its
# errors go to the log as well as the console, including those it prints before it can
# open the log (a bad host config, say).
errors=$(mktemp) || exit 1
"$provision" apply --config "$config" --log "$log" "$@" >>"$log" 2>"$errors"
status=$?
cat "$errors" >>"$log"
cat "$errors" >&2
rm -f "$errors"
if [ "$status" -ne 0 ]; then
    note "failed with exit status $status"
    echo "firecracker-platform: provisioning failed with status $status (see $log)" >&2
    exit "$status"
fi
note "finished"
