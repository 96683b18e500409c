#include "common/addr.h"
#include "common/byteorder.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
ipaddr_parse(const char *s, struct ipaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->u.v4) == 1) {
		a->af = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->u.v6) == 1) {
		a->af = AF_INET6;
		return 0;
	}
	memset(a, 0, sizeof(*a));
	return -1;
}

const char *
ipaddr_fmt(const struct ipaddr *a, char *buf, size_t len)
{
	if (a->af != AF_INET && a->af != AF_INET6) {
		snprintf(buf, len, "none");
		return buf;
	}
	if (inet_ntop(a->af, &a->u, buf, len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

size_t
ipaddr_len(const struct ipaddr *a)
{
	return a->af == AF_INET ? 4 : a->af == AF_INET6 ? 16 : 0;
}

int
ipaddr_cmp(const struct ipaddr *a, const struct ipaddr *b)
{
	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	return memcmp(&a->u, &b->u, ipaddr_len(a));
}

bool
ipaddr_is_set(const struct ipaddr *a)
{
	return a->af == AF_INET || a->af == AF_INET6;
}

void
ipaddr_from_v4(struct ipaddr *a, uint32_t host)
{
	memset(a, 0, sizeof(*a));
	a->af = AF_INET;
	a->u.v4.s_addr = htonl(host);
}

uint32_t
ipaddr_v4_host(const struct ipaddr *a)
{
	return a->af == AF_INET ? ntohl(a->u.v4.s_addr) : 0;
}

int
ipaddr_to_sockaddr(const struct ipaddr *a, uint16_t port, void *ss)
{
	if (a->af == AF_INET) {
		struct sockaddr_in *sin = ss;

		memset(sin, 0, sizeof(*sin));
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->u.v4;
		return sizeof(*sin);
	}
	if (a->af == AF_INET6) {
		struct sockaddr_in6 *sin6 = ss;

		memset(sin6, 0, sizeof(*sin6));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = a->u.v6;
		return sizeof(*sin6);
	}
	return -1;
}

int
ipaddr_from_sockaddr(const void *sa, struct ipaddr *a, uint16_t *port)
{
	const struct sockaddr *s = sa;

	memset(a, 0, sizeof(*a));
	if (s->sa_family == AF_INET) {
		const struct sockaddr_in *sin = sa;

		a->af = AF_INET;
		a->u.v4 = sin->sin_addr;
		if (port)
			*port = ntohs(sin->sin_port);
		return 0;
	}
	if (s->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = sa;

		/* An IPv4 peer on a dual-stack socket: report it as IPv4. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			a->af = AF_INET;
			memcpy(&a->u.v4, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			a->af = AF_INET6;
			a->u.v6 = sin6->sin6_addr;
		}
		if (port)
			*port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -1;
}

void
prefix_mask(struct prefix *p)
{
	size_t bytes = ipaddr_len(&p->addr);

	for (size_t i = 0; i < bytes; i++) {
		int bits = (int)p->len - (int)(i * 8);

		if (bits >= 8)
			continue;
		p->addr.u.b[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
}

int
prefix_parse(const char *s, struct prefix *p, bool loose)
{
	char tmp[PREFIX_STRLEN];
	char *slash;
	uint64_t len;
	struct prefix masked;

	if (strlen(s) >= sizeof(tmp))
		return -1;
	strcpy(tmp, s);
	if ((slash = strchr(tmp, '/')) == NULL)
		return -1;
	*slash = '\0';
	if (ipaddr_parse(tmp, &p->addr) == -1)
		return -1;
	if (parse_uint(slash + 1, 0, ipaddr_len(&p->addr) * 8, &len) == -1)
		return -1;
	p->len = (uint8_t)len;
	masked = *p;
	prefix_mask(&masked);
	if (!loose && ipaddr_cmp(&masked.addr, &p->addr) != 0)
		return -1;
	*p = masked;
	return 0;
}

const char *
prefix_fmt(const struct prefix *p, char *buf, size_t len)
{
	char a[IPADDR_STRLEN];

	snprintf(buf, len, "%s/%u", ipaddr_fmt(&p->addr, a, sizeof(a)), p->len);
	return buf;
}

int
prefix_cmp(const struct prefix *a, const struct prefix *b)
{
	int c = ipaddr_cmp(&a->addr, &b->addr);

	if (c != 0)
		return c;
	return (int)a->len - (int)b->len;
}

bool
prefix_contains(const struct prefix *pfx, const struct ipaddr *ip)
{
	struct prefix x;

	if (pfx->addr.af != ip->af)
		return false;
	x.addr = *ip;
	x.len = pfx->len;
	prefix_mask(&x);
	return ipaddr_cmp(&x.addr, &pfx->addr) == 0;
}

bool
prefix_overlap(const struct prefix *a, const struct prefix *b)
{
	return a->len <= b->len ? prefix_contains(a, &b->addr) :
	    prefix_contains(b, &a->addr);
}

int
mac_parse(const char *s, struct macaddr *m)
{
	unsigned int v[6];
	char trail;

	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return -1;
	}
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2],
	    &v[3], &v[4], &v[5], &trail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		m->b[i] = (uint8_t)v[i];
	return 0;
}

const char *
mac_fmt(const struct macaddr *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x",
	    m->b[0], m->b[1], m->b[2], m->b[3], m->b[4], m->b[5]);
	return buf;
}

int
mac_cmp(const struct macaddr *a, const struct macaddr *b)
{
	return memcmp(a->b, b->b, 6);
}

bool
mac_is_zero(const struct macaddr *m)
{
	static const uint8_t zero[6];

	return memcmp(m->b, zero, 6) == 0;
}

/*
 * Shared by RD and RT: "ADMIN:VALUE" where ADMIN is an ASN or an IPv4
 * address.  Yields the 2-bit form: 0 = 2-byte AS : 4-byte value,
 * 1 = IPv4 : 2-byte value, 2 = 4-byte AS : 2-byte value.
 */
static int
admin_value_parse(const char *s, int *form, uint32_t *admin, uint32_t *value)
{
	char tmp[RD_STRLEN];
	char *colon;
	uint64_t a, v;
	struct in_addr in;

	if (strlen(s) >= sizeof(tmp))
		return -1;
	strcpy(tmp, s);
	if ((colon = strrchr(tmp, ':')) == NULL)
		return -1;
	*colon = '\0';
	if (inet_pton(AF_INET, tmp, &in) == 1) {
		if (parse_uint(colon + 1, 0, UINT16_MAX, &v) == -1)
			return -1;
		*form = 1;
		*admin = ntohl(in.s_addr);
		*value = (uint32_t)v;
		return 0;
	}
	if (parse_uint(tmp, 0, UINT32_MAX, &a) == -1)
		return -1;
	if (a <= UINT16_MAX) {
		if (parse_uint(colon + 1, 0, UINT32_MAX, &v) == -1)
			return -1;
		*form = 0;
	} else {
		if (parse_uint(colon + 1, 0, UINT16_MAX, &v) == -1)
			return -1;
		*form = 2;
	}
	*admin = (uint32_t)a;
	*value = (uint32_t)v;
	return 0;
}

/* Lay out admin/value after a 2-byte type field per the form. */
static void
admin_value_put(uint8_t *b, int form, uint32_t admin, uint32_t value)
{
	if (form == 0) {
		be16_store(b + 2, (uint16_t)admin);
		be32_store(b + 4, value);
	} else {
		be32_store(b + 2, admin);
		be16_store(b + 6, (uint16_t)value);
	}
}

static const char *
admin_value_fmt(const uint8_t *b, int form, char *buf, size_t len)
{
	if (form == 0)
		snprintf(buf, len, "%u:%u", be16_load(b + 2),
		    be32_load(b + 4));
	else if (form == 1)
		snprintf(buf, len, "%u.%u.%u.%u:%u", b[2], b[3], b[4], b[5],
		    be16_load(b + 6));
	else
		snprintf(buf, len, "%u:%u", be32_load(b + 2),
		    be16_load(b + 6));
	return buf;
}

int
rd_parse(const char *s, struct rd *rd)
{
	int form;
	uint32_t admin, value;

	if (admin_value_parse(s, &form, &admin, &value) == -1)
		return -1;
	memset(rd, 0, sizeof(*rd));
	rd->b[1] = (uint8_t)form;	/* RFC 4364 §4.2 type field */
	admin_value_put(rd->b, form, admin, value);
	return 0;
}

const char *
rd_fmt(const struct rd *rd, char *buf, size_t len)
{
	uint16_t type = be16_load(rd->b);

	if (type > 2) {
		snprintf(buf, len, "unknown-type-%u", type);
		return buf;
	}
	return admin_value_fmt(rd->b, type, buf, len);
}

int
rd_cmp(const struct rd *a, const struct rd *b)
{
	return memcmp(a->b, b->b, 8);
}

void
rd_make_ipv4(struct rd *rd, uint32_t ipv4, uint16_t index)
{
	memset(rd, 0, sizeof(*rd));
	rd->b[1] = 1;
	admin_value_put(rd->b, 1, ipv4, index);
}

/* RFC 4360 §4 / RFC 5668: transitive type per form, subtype 0x02. */
static const uint8_t rt_type_of_form[3] = { 0x00, 0x01, 0x02 };

int
rt_parse(const char *s, struct rt *rt)
{
	int form;
	uint32_t admin, value;

	if (admin_value_parse(s, &form, &admin, &value) == -1)
		return -1;
	memset(rt, 0, sizeof(*rt));
	rt->b[0] = rt_type_of_form[form];
	rt->b[1] = 0x02;
	admin_value_put(rt->b, form, admin, value);
	return 0;
}

const char *
rt_fmt(const struct rt *rt, char *buf, size_t len)
{
	if (rt->b[1] != 0x02 || rt->b[0] > 0x02) {
		snprintf(buf, len, "unknown-%02x%02x", rt->b[0], rt->b[1]);
		return buf;
	}
	return admin_value_fmt(rt->b, rt->b[0], buf, len);
}

int
rt_cmp(const struct rt *a, const struct rt *b)
{
	return memcmp(a->b, b->b, 8);
}

void
rt_make_as2(struct rt *rt, uint16_t as, uint32_t value)
{
	memset(rt, 0, sizeof(*rt));
	rt->b[0] = 0x00;
	rt->b[1] = 0x02;
	admin_value_put(rt->b, 0, as, value);
}
