#!/bin/sh
# Removes the Vigil agent from macOS: stops the LaunchDaemon (the agent says goodbye), removes
# its plist and /opt/vigil-agent. Identity, token, outbox and settings in
# /Library/Application Support/Vigil are kept unless --purge is given, so a reinstall keeps the host.
#
#   sudo ./uninstall.sh [--purge]
set -e

LABEL=org.vigil.agent
purge=no
[ "${1:-}" = --purge ] && purge=yes
[ "${VIGIL_PURGE:-}" = 1 ] && purge=yes
[ "$(id -u)" = 0 ] || { echo "uninstall.sh: run as root (sudo)" >&2; exit 1; }

launchctl bootout "system/$LABEL" >/dev/null 2>&1 || true
rm -f "/Library/LaunchDaemons/$LABEL.plist"
rm -rf /opt/vigil-agent
pkgutil --forget "$LABEL" >/dev/null 2>&1 || true
if [ "$purge" = yes ]; then
	rm -rf "/Library/Application Support/Vigil" /Library/Logs/Vigil
fi
echo "vigil-agent: removed"
