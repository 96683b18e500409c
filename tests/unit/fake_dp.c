/*
 * The recording data plane: see fake_dp.h.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tests/unit/fake_dp.h"

static void
fdp_record(struct fake_dp *fd, const char *fmt, ...)
{
	va_list ap;

	if (fd->ncalls == fd->cap) {
		fd->cap = fd->cap ? fd->cap * 2 : 64;
		fd->calls = xrealloc(fd->calls, fd->cap * sizeof(*fd->calls));
	}
	va_start(ap, fmt);
	vsnprintf(fd->calls[fd->ncalls++], FDP_LINE_MAX, fmt, ap);
	va_end(ap);
}

static const char *
ip_str(const struct ipaddr *a)
{
	static char buf[4][IPADDR_STRLEN];
	static int i;

	i = (i + 1) % 4;
	return ipaddr_fmt(a, buf[i], sizeof(buf[i]));
}

static const char *
mac_str(const struct macaddr *m)
{
	static char buf[2][MAC_STRLEN];
	static int i;

	i = (i + 1) % 2;
	return mac_fmt(m, buf[i], sizeof(buf[i]));
}

static int
fdp_vni_add(void *ctx, const struct evpn_dp_vni *v, char *err, size_t errlen)
{
	struct fake_dp *fd = ctx;

	if (v->l3)
		fdp_record(fd, "vni_add %u %s %s %s l3 table %u", v->vni,
		    v->vxlan_if, v->bridge_if, ip_str(&v->local_ip), v->table);
	else
		fdp_record(fd, "vni_add %u %s %s %s", v->vni, v->vxlan_if,
		    v->bridge_if, ip_str(&v->local_ip));
	if (fd->fail_vni != 0 && v->vni == fd->fail_vni) {
		snprintf(err, errlen, "%s: refused by the test", v->vxlan_if);
		return -1;
	}
	return 0;
}

static void
fdp_vni_del(void *ctx, const struct evpn_dp_vni *v)
{
	fdp_record(ctx, "vni_del %u %s", v->vni, v->vxlan_if);
}

static void
fdp_mac_set(void *ctx, const struct evpn_dp_vni *v, const struct macaddr *m,
    const struct ipaddr *vtep, bool sticky)
{
	fdp_record(ctx, "mac_set %u %s %s%s", v->vni, mac_str(m),
	    ip_str(vtep), sticky ? " sticky" : "");
}

static void
fdp_mac_del(void *ctx, const struct evpn_dp_vni *v, const struct macaddr *m)
{
	fdp_record(ctx, "mac_del %u %s", v->vni, mac_str(m));
}

static void
fdp_flood_add(void *ctx, const struct evpn_dp_vni *v,
    const struct ipaddr *vtep)
{
	fdp_record(ctx, "flood_add %u %s", v->vni, ip_str(vtep));
}

static void
fdp_flood_del(void *ctx, const struct evpn_dp_vni *v,
    const struct ipaddr *vtep)
{
	fdp_record(ctx, "flood_del %u %s", v->vni, ip_str(vtep));
}

static void
fdp_neigh_set(void *ctx, const struct evpn_dp_vni *v, const struct ipaddr *ip,
    const struct macaddr *m)
{
	fdp_record(ctx, "neigh_set %u %s %s", v->vni, ip_str(ip), mac_str(m));
}

static void
fdp_neigh_del(void *ctx, const struct evpn_dp_vni *v, const struct ipaddr *ip,
    const struct macaddr *m)
{
	fdp_record(ctx, "neigh_del %u %s %s", v->vni, ip_str(ip), mac_str(m));
}

static void
fdp_route_set(void *ctx, const struct evpn_dp_vni *v, const struct prefix *p,
    const struct ipaddr *vtep, const struct macaddr *rmac)
{
	fdp_record(ctx, "route_set %u %s/%u %s %s", v->vni, ip_str(&p->addr),
	    p->len, ip_str(vtep), mac_str(rmac));
}

static void
fdp_route_del(void *ctx, const struct evpn_dp_vni *v, const struct prefix *p)
{
	fdp_record(ctx, "route_del %u %s/%u", v->vni, ip_str(&p->addr),
	    p->len);
}

static void
fdp_sync_begin(void *ctx)
{
	fdp_record(ctx, "sync_begin");
}

static void
fdp_sync_end(void *ctx)
{
	fdp_record(ctx, "sync_end");
}

static void
fdp_learn_again(void *ctx, const struct evpn_dp_vni *v)
{
	fdp_record(ctx, "learn_again %u", v->vni);
}

void
fdp_init(struct fake_dp *fd)
{
	memset(fd, 0, sizeof(*fd));
	fd->ops = (struct evpn_dataplane){
		.ctx = fd,
		.vni_add = fdp_vni_add,
		.vni_del = fdp_vni_del,
		.mac_set = fdp_mac_set,
		.mac_del = fdp_mac_del,
		.flood_add = fdp_flood_add,
		.flood_del = fdp_flood_del,
		.neigh_set = fdp_neigh_set,
		.neigh_del = fdp_neigh_del,
		.route_set = fdp_route_set,
		.route_del = fdp_route_del,
		.sync_begin = fdp_sync_begin,
		.sync_end = fdp_sync_end,
		.learn_again = fdp_learn_again,
	};
}

void
fdp_free(struct fake_dp *fd)
{
	free(fd->calls);
	memset(fd, 0, sizeof(*fd));
}

void
fdp_clear(struct fake_dp *fd)
{
	fd->ncalls = 0;
}

long
fdp_find(const struct fake_dp *fd, size_t from, const char *line)
{
	for (size_t i = from; i < fd->ncalls; i++)
		if (strcmp(fd->calls[i], line) == 0)
			return (long)i;
	return -1;
}

const char *
fdp_last(const struct fake_dp *fd, const char *prefix)
{
	size_t len = strlen(prefix);

	for (size_t i = fd->ncalls; i > 0; i--)
		if (strncmp(fd->calls[i - 1], prefix, len) == 0)
			return fd->calls[i - 1];
	return NULL;
}

size_t
fdp_count(const struct fake_dp *fd, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);

	for (size_t i = 0; i < fd->ncalls; i++)
		if (strncmp(fd->calls[i], prefix, len) == 0)
			n++;
	return n;
}

const char *
fdp_dump(const struct fake_dp *fd)
{
	static char buf[8192];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < fd->ncalls && o < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\n  %s",
		    fd->calls[i]);
	return fd->ncalls ? buf : " (none)";
}

size_t
fdp_expect(const struct fake_dp *fd, const char *line)
{
	long i = fdp_find(fd, 0, line);

	ck_assert_msg(i >= 0, "no call \"%s\"; the calls:%s", line,
	    fdp_dump(fd));
	return (size_t)i;
}

void
fdp_expect_none(const struct fake_dp *fd, const char *line)
{
	ck_assert_msg(fdp_find(fd, 0, line) < 0,
	    "unexpected call \"%s\"; the calls:%s", line, fdp_dump(fd));
}
