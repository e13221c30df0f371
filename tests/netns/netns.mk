# netns.mk - multi-host tests in network namespaces (included by the top
# Makefile).  Needs root and `ip netns`; otherwise lists every test as SKIP
# with the reason (not a pass), and under CI=true or XMIG_REQUIRE_ALL=1 fails.
#
#   make netns-check            every tests/netns/t_*.sh
#   make netns-check SAN=1      the same with the ASan/UBSan daemons

netns-check: all
	@BUILD=$(BUILD) tests/netns/run.sh

.PHONY: netns-check
