# probe.sh - can this machine run the network-namespace tests?  Sourced by
# lib.sh and run.sh.

# Can this machine run namespace tests?  Prints the reason when not.
netns_unavailable() {
	local probe="xmigprobe$$"
	if [ "$(id -u)" != 0 ]; then
		echo "not root"
	elif ! command -v ip >/dev/null 2>&1; then
		echo "no ip command (iproute2)"
	elif ! ip netns add "$probe" 2>/dev/null; then
		echo "cannot create network namespaces (ip netns add failed)"
	elif ! ip -n "$probe" link add xmprobe type bridge 2>/dev/null ||
	    ! ip -n "$probe" link add xmp0 type veth peer name xmp1 2>/dev/null; then
		ip netns del "$probe" 2>/dev/null
		echo "cannot create bridges or veth pairs in a namespace"
	else
		ip netns del "$probe"
		return 1
	fi
	return 0
}
