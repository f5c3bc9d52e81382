#!/bin/sh
# Installs the Vigil agent on macOS, silently, from this directory (the unpacked
# vigil-agent-<version>-darwin-x64.tar.gz): with the pkg if one was built beside this script,
# else by copying the payload. Same parameters as on Linux and Windows:
#
#   sudo VIGIL_COLLECTOR_URL=https://vigil.example.org:8470 VIGIL_ENROL_SECRET=… \
#     [VIGIL_CA_CERT=/path/ca.pem] ./install.sh
#   sudo ./install.sh --collector-url https://… --enrol-secret … [--ca-cert /path/ca.pem]
set -e

here=$(cd "$(dirname "$0")" && pwd)
while [ $# -gt 0 ]; do
	case "$1" in
	--collector-url) VIGIL_COLLECTOR_URL=$2; shift 2 ;;
	--enrol-secret) VIGIL_ENROL_SECRET=$2; shift 2 ;;
	--ca-cert) VIGIL_CA_CERT=$2; shift 2 ;;
	--log-level) VIGIL_LOG_LEVEL=$2; shift 2 ;;
	*) echo "usage: $0 [--collector-url URL] [--enrol-secret SECRET] [--ca-cert PEM] [--log-level LEVEL]" >&2; exit 2 ;;
	esac
done
export VIGIL_COLLECTOR_URL VIGIL_ENROL_SECRET VIGIL_CA_CERT VIGIL_LOG_LEVEL
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 1; }

pkg=$(ls "$here"/vigil-agent-*.pkg 2>/dev/null | head -n 1 || true)
if [ -n "$pkg" ]; then
	# installer runs scripts without our environment: hand the settings over in the preseed file.
	umask 077
	rm -f /tmp/vigil_envs
	for key in VIGIL_COLLECTOR_URL VIGIL_ENROL_SECRET VIGIL_CA_CERT VIGIL_LOG_LEVEL; do
		eval "value=\${$key:-}"
		# shellcheck disable=SC2154
		[ -n "$value" ] && printf "%s='%s'\n" "$key" "$(printf '%s' "$value" | sed "s/'/'\\\\''/g")" >>/tmp/vigil_envs
	done
	installer -pkg "$pkg" -target /
else
	sh "$here/scripts/preinstall"
	# ditto keeps modes; payload/ holds opt/ and Library/ as the pkg would install them.
	ditto "$here/payload" /
	sh "$here/scripts/postinstall"
fi
echo "vigil-agent: installed"
