/*
 * GET /v1/dataplane: what the data-plane adapter holds in the kernel
 * (owned entries by kind, netlink request counters, VRF mode) and the
 * state of each VNI's devices.
 */
#include <stdlib.h>

#include "api/api.h"
#include "daemon/evpnd.h"
#include "dataplane/dataplane.h"

static void
vni_json_cb(void *arg, const struct dataplane_vni_state *s)
{
	json_t	*o;

	o = json_pack("{s:I, s:b, s:{s:s, s:s, s:i, s:b}, "
	    "s:{s:s, s:s, s:i, s:b}}",
	    "vni", (json_int_t)s->vni, "l3", s->l3,
	    "vxlan", "name", s->vxlan_if,
	    "state", s->vx_created ? "created" : "adopted",
	    "ifindex", s->vx_ifindex, "up", s->vx_up,
	    "bridge", "name", s->bridge_if,
	    "state", s->br_created ? "created" : "adopted",
	    "ifindex", s->br_ifindex, "up", s->br_up);
	if (s->l3)
		json_object_set_new(o, "table", json_integer(s->table));
	json_array_append_new(arg, o);
}

json_t *
api_dataplane_json(struct dataplane *dp)
{
	struct dataplane_stats	 st;
	json_t			*installed, *blocked, *vnis;

	dataplane_get_stats(dp, &st);
	installed = json_object();
	blocked = json_object();
	for (int k = 0; k < DATAPLANE_NKINDS; k++) {
		json_object_set_new(installed, dataplane_kind_name(k),
		    json_integer((json_int_t)st.installed[k]));
		json_object_set_new(blocked, dataplane_kind_name(k),
		    json_integer((json_int_t)st.blocked[k]));
	}
	vnis = json_array();
	dataplane_foreach_vni(dp, vni_json_cb, vnis);
	/* blocked: entries left alone because the kernel holds one evpnd
	 * does not own at their key (refused: how often that happened). */
	return json_pack("{s:s, s:o, s:o, s:I, s:{s:I, s:I, s:I, s:I}, s:I, "
	    "s:I, s:I, s:o}",
	    "vrf_mode", st.vrf_devices ? "vrf" : "rule",
	    "installed", installed,
	    "blocked", blocked,
	    "refused", (json_int_t)st.refused,
	    "requests", "sent", (json_int_t)st.nl.sent,
	    "acked", (json_int_t)st.nl.acked,
	    "failed", (json_int_t)st.nl.failed,
	    "pending", (json_int_t)st.nl.pending,
	    "errors", (json_int_t)st.nl.failed,
	    "overruns", (json_int_t)st.nl.overruns,
	    "resyncs", (json_int_t)st.nl.resyncs,
	    "vnis", vnis);
}

void
api_dataplane(struct api_req *r)
{
	if (r->d->dp == NULL) {
		api_reply_error(r, 404, "no data plane");
		return;
	}
	api_reply_json(r, 200, api_dataplane_json(r->d->dp));
}
