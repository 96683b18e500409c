/*
 * Linked into the fuzz targets that decode MP attributes or capabilities:
 * registers the l2vpn evpn row of the family table before the first
 * input, as evpn_create() does in evpnd, so that its capability, AFI/SAFI
 * and next-hop rule are exercised.
 */
#include "bgpd/bgp_af.h"
#include "evpn/evpn_int.h"

int	LLVMFuzzerInitialize(int *, char ***);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	bgp_af_register(&evpn_af);
	return 0;
}
