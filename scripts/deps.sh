#!/bin/sh
# Installs the Debian packages dnsbld needs to build, run and test, if any are missing.
# Without root it prints the exact apt-get command and fails.
set -eu
PKGS="gcc make pkgconf libldns-dev liblmdb-dev libmicrohttpd-dev libjansson-dev libinih-dev
libcmocka-dev zlib1g-dev libssl-dev python3-pytest python3-dnspython bind9-dnsutils lmdb-utils
nsd knot knot-dnsutils
${EXTRA_PKGS:-}"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "deps: missing Debian packages:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: not root; run this, then try again:"
	echo "  sudo apt-get update && sudo apt-get install -y$missing"
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
# nsd and knot are only test tools here: their packages must not start (or enable) a
# system service on port 53. A policy-rc.d that says "no" does that for the install.
guard=""
case "$missing" in *nsd*|*knot*)
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		guard=1
	fi ;;
esac
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $missing || { [ -n "$guard" ] && rm -f /usr/sbin/policy-rc.d; exit 1; }
if [ -n "$guard" ]; then
	rm -f /usr/sbin/policy-rc.d
	if command -v systemctl >/dev/null 2>&1; then
		systemctl disable nsd knot >/dev/null 2>&1 || true
	fi
fi
