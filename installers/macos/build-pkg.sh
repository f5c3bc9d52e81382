#!/bin/sh
# Builds vigil-agent-<version>.pkg on a Mac (pkgbuild and productbuild come with Xcode's command
# line tools), from this directory as `npm run package` made it. Optionally signs it:
#
#   ./build-pkg.sh [--sign "Developer ID Installer: Example Ltd (TEAMID)"]
set -e

here=$(cd "$(dirname "$0")" && pwd)
version=$(cat "$here/VERSION")
sign=
if [ "${1:-}" = --sign ]; then sign=$2; fi

pkgbuild --root "$here/payload" --scripts "$here/scripts" --identifier org.vigil.agent \
	--version "$version" --install-location / --ownership recommended "$here/vigil-agent-component.pkg"
if [ -n "$sign" ]; then
	productbuild --package "$here/vigil-agent-component.pkg" --sign "$sign" "$here/vigil-agent-$version.pkg"
else
	productbuild --package "$here/vigil-agent-component.pkg" "$here/vigil-agent-$version.pkg"
fi
rm -f "$here/vigil-agent-component.pkg"
echo "$here/vigil-agent-$version.pkg"
