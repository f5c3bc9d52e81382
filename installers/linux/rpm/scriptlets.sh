# Scriptlets of the vigil-agent RPM, pasted into the spec by installers/src/rpm.ts.
# Same behaviour as the .deb's maintainer scripts; work where systemd is not running.
%post
configured=yes
/opt/vigil-agent/bin/vigil-agent-configure || { [ $? = 3 ] || exit 1; configured=no; }
systemctl --no-reload enable vigil-agent.service >/dev/null 2>&1 || :
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
	if [ "$configured" = yes ]; then systemctl restart vigil-agent.service >/dev/null 2>&1 || :; fi
fi

%preun
# $1 = 0: erase (not upgrade).
if [ "$1" = 0 ]; then
	systemctl --no-reload disable vigil-agent.service >/dev/null 2>&1 || :
	if [ -d /run/systemd/system ]; then systemctl stop vigil-agent.service >/dev/null 2>&1 || :; fi
	if [ -n "${VIGIL_RETIRE_TOKEN:-}" ]; then
		[ -r /etc/vigil-agent/ca.pem ] && export NODE_EXTRA_CA_CERTS=/etc/vigil-agent/ca.pem
		/opt/vigil-agent/node/bin/node /opt/vigil-agent/lib/vigil-agent-retire.cjs || echo "vigil-agent: the host was not retired at the collector" >&2
	fi
fi

%postun
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || :; fi
# Settings and state are kept on erase, like dpkg -r; VIGIL_PURGE=1 rpm -e vigil-agent deletes them.
if [ "$1" = 0 ] && [ "${VIGIL_PURGE:-}" = 1 ]; then
	rm -rf /etc/vigil-agent /var/lib/vigil-agent
fi
