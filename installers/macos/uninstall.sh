#!/bin/sh
# Removes the Vigil agent from macOS: stops the LaunchDaemon (the agent says goodbye), removes
# its plist and /opt/vigil-agent. Identity, token, outbox and settings in
# /Library/Application Support/Vigil are kept unless --purge is given, so a reinstall keeps the host.
#
#   sudo [VIGIL_RETIRE_TOKEN=<admin API token>] ./uninstall.sh [--purge]
set -e

LABEL=org.vigil.agent
purge=no
[ "${1:-}" = --purge ] && purge=yes
[ "${VIGIL_PURGE:-}" = 1 ] && purge=yes
[ "$(id -u)" = 0 ] || { echo "uninstall.sh: run as root (sudo)" >&2; exit 1; }

launchctl bootout "system/$LABEL" >/dev/null 2>&1 || true
# With VIGIL_RETIRE_TOKEN (an admin API token), also retire the host at the collector.
SUPPORT="/Library/Application Support/Vigil"
if [ -n "${VIGIL_RETIRE_TOKEN:-}" ] && [ -f /opt/vigil-agent/lib/vigil-agent-retire.cjs ]; then
	if [ -r "$SUPPORT/ca.pem" ]; then
		NODE_EXTRA_CA_CERTS="$SUPPORT/ca.pem"
		export NODE_EXTRA_CA_CERTS
	fi
	VIGIL_STATE_DIR="$SUPPORT/agent" /opt/vigil-agent/node/bin/node /opt/vigil-agent/lib/vigil-agent-retire.cjs || echo "vigil-agent: the host was not retired at the collector" >&2
fi
rm -f "/Library/LaunchDaemons/$LABEL.plist"
rm -rf /opt/vigil-agent
pkgutil --forget "$LABEL" >/dev/null 2>&1 || true
if [ "$purge" = yes ]; then
	rm -rf "$SUPPORT" /Library/Logs/Vigil
fi
echo "vigil-agent: removed"
