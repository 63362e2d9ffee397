# Sourced by tests/run-suite and examples/demo: installs what is missing.
# Debian 12 package names; needs root (or everything already installed).
SBX_PACKAGES="meson ninja-build pkg-config gcc libc6-dev libseccomp-dev libcap-ng-dev
 perl python3 valgrind bubblewrap clang libclang-rt-14-dev iproute2 cppcheck clang-tidy"

sbx_install_deps() {
	local missing="" p
	for p in $SBX_PACKAGES; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "sbx: missing packages:$missing (run as root, or install them)" >&2
		return 1
	fi
	echo "sbx: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq </dev/null >&2
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing </dev/null >&2
}
