/*
 * Decoding the API's JSON bodies (api_body.h).
 */
#include "api/api_body.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sys/socket.h>

#include "common/util.h"
#include "ipamd/shadowd.h"

static int
bad(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A 400 with its message; request bytes in it are made printable. */
static int
bad(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	return 400;
}

json_t *
api_body_object(const char *body, size_t len, char *msg, size_t msglen)
{
	json_error_t jerr;
	json_t *o;

	if (len > API_IPAM_MAX_BODY) {
		bad(msg, msglen, "request body too large (%zu bytes, at most "
		    "%d)", len, API_IPAM_MAX_BODY);
		return NULL;
	}
	if ((o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		bad(msg, msglen, "malformed JSON: %s", jerr.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		bad(msg, msglen, "the body must be a JSON object");
		return NULL;
	}
	return o;
}

static int
parse_family(const char *s, enum ipam_family *out)
{
	static const struct { const char *name; enum ipam_family f; } tab[] = {
		{ "ipv4", IPAM_FAMILY_IPV4 },
		{ "ipv6", IPAM_FAMILY_IPV6 },
		{ "dual", IPAM_FAMILY_DUAL },
	};

	for (size_t i = 0; i < nitems(tab); i++)
		if (strcmp(s, tab[i].name) == 0) {
			*out = tab[i].f;
			return 0;
		}
	return -1;
}

bool
api_resource_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > IPAM_RESOURCE_MAX)
		return false;
	/* The shadow inventory's own names: a client must not take one. */
	if (strncmp(s, SHADOWD_PREFIX, strlen(SHADOWD_PREFIX)) == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* Only "resource", "family", "mac", "ip" and "ipv6", each a string,
 * and "labels". */
static int
alloc_fields(json_t *o, char *msg, size_t msglen)
{
	static const char *const strings[] = { "resource", "family", "mac",
	    "ip", "ipv6" };
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(o, k, v) {
		if (strcmp(k, "labels") == 0)
			continue;
		for (i = 0; i < nitems(strings); i++)
			if (strcmp(k, strings[i]) == 0)
				break;
		if (i == nitems(strings))
			return bad(msg, msglen, "unknown field '%.64s'", k);
		if (!json_is_string(v))
			return bad(msg, msglen, "field '%s' must be a string",
			    k);
	}
	return 0;
}

/* A string without a NUL inside; NULL when absent or not so. */
static const char *
plain_string(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);

	return s != NULL && strlen(s) == json_string_length(v) ? s : NULL;
}

/* {"key": "value", ...} into canonical text (ipam/labels.c's bounds). */
static int
alloc_labels(json_t *o, struct api_alloc_body *b, char *msg, size_t msglen)
{
	struct ipam_labels ls;
	const char *k;
	char err[256];
	json_t *v;

	if (o == NULL)
		return 0;
	if (!json_is_object(o))
		return bad(msg, msglen, "'labels' must be an object of "
		    "strings");
	memset(&ls, 0, sizeof(ls));
	json_object_foreach(o, k, v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) !=
		    json_string_length(v))
			return bad(msg, msglen, "label '%.64s' must be a "
			    "string", k);
		if (ipam_labels_add(&ls, k, json_string_value(v), err,
		    sizeof(err)) == -1)
			return bad(msg, msglen, "%s", err);
	}
	ipam_labels_format(&ls, b->labels, sizeof(b->labels));
	return 0;
}

/* "ip" of either family, "ipv6" of IPv6; without "family" the family
 * follows what was asked (both: dual). */
static int
alloc_asked(json_t *o, struct api_alloc_body *b, bool family_given,
    char *msg, size_t msglen)
{
	const char *ip = plain_string(o, "ip"), *ip6 = plain_string(o, "ipv6");
	struct ipaddr a;

	if (json_object_get(o, "ip") != NULL) {
		if (ip == NULL || ipaddr_parse(ip, &a) == -1)
			return bad(msg, msglen, "'ip' must be an IP address");
		if (a.af == AF_INET)
			b->ip = a;
		else
			b->ipv6 = a;
	}
	if (json_object_get(o, "ipv6") != NULL) {
		if (ip6 == NULL || ipaddr_parse(ip6, &a) == -1 ||
		    a.af != AF_INET6 || b->ipv6.af != 0)
			return bad(msg, msglen, "'ipv6' must be an IPv6 "
			    "address (and 'ip' then an IPv4 one)");
		b->ipv6 = a;
	}
	if (!family_given && b->ipv6.af != 0)
		b->family = b->ip.af != 0 ? IPAM_FAMILY_DUAL :
		    IPAM_FAMILY_IPV6;
	return 0;
}

static int
alloc_decode(json_t *o, struct api_alloc_body *b, char *msg, size_t msglen)
{
	const char *res, *fam, *m;
	int rc;

	if ((rc = alloc_fields(o, msg, msglen)) != 0)
		return rc;
	res = json_string_value(json_object_get(o, "resource"));
	fam = json_string_value(json_object_get(o, "family"));
	m = json_string_value(json_object_get(o, "mac"));
	/* A string with a NUL inside is refused by the length check. */
	if (res == NULL || strlen(res) != json_string_length(json_object_get(o,
	    "resource")) || !api_resource_ok(res))
		return bad(msg, msglen, "'resource' must be 1 to %d printable "
		    "characters without spaces", IPAM_RESOURCE_MAX);
	strlcpy_s(b->resource, res, sizeof(b->resource));
	if (fam != NULL && parse_family(fam, &b->family) == -1)
		return bad(msg, msglen, "'family' must be ipv4, ipv6 or dual");
	if (m != NULL) {
		if (mac_parse(m, &b->mac) == -1 || mac_is_zero(&b->mac) ||
		    (b->mac.b[0] & 0x01) != 0)
			return bad(msg, msglen, "'mac' must be a unicast "
			    "6-byte MAC address");
		b->has_mac = true;
	}
	if ((rc = alloc_asked(o, b, fam != NULL, msg, msglen)) != 0)
		return rc;
	return alloc_labels(json_object_get(o, "labels"), b, msg, msglen);
}

int
api_body_allocation(const char *body, size_t len, struct api_alloc_body *b,
    char *msg, size_t msglen)
{
	json_t *o;
	int rc;

	memset(b, 0, sizeof(*b));
	b->family = IPAM_FAMILY_IPV4;
	if ((o = api_body_object(body, len, msg, msglen)) == NULL)
		return 400;
	rc = alloc_decode(o, b, msg, msglen);
	json_decref(o);
	return rc;
}

void
api_body_request(const struct api_alloc_body *b, struct ipam_request *req)
{
	memset(req, 0, sizeof(*req));
	req->resource = b->resource;
	req->family = b->family;
	req->mac = b->has_mac ? &b->mac : NULL;
	req->ip = b->ip;
	req->ipv6 = b->ipv6;
	req->labels = b->labels[0] != '\0' ? b->labels : NULL;
}

/* A non-negative integer field of at most max. */
static int
intent_field(json_t *o, const char *key, json_int_t max, bool required,
    uint32_t *out, char *msg, size_t msglen)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL && !required)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > max)
		return bad(msg, msglen, "'%s' must be an integer from 0 to "
		    "%lld", key, (long long)max);
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

int
api_body_intent(const char *body, size_t len, uint32_t *count,
    uint32_t *horizon, char *msg, size_t msglen)
{
	const char *k;
	json_t *o, *v;
	int rc = 0;

	if ((o = api_body_object(body, len, msg, msglen)) == NULL)
		return 400;
	json_object_foreach(o, k, v)
		if (strcmp(k, "count") != 0 && strcmp(k, "horizon") != 0) {
			rc = bad(msg, msglen, "unknown field '%.64s'", k);
			break;
		}
	if (rc == 0)
		rc = intent_field(o, "count", API_INTENT_MAX_COUNT, true, count,
		    msg, msglen);
	if (rc == 0)
		rc = intent_field(o, "horizon", API_INTENT_MAX_HORIZON, false,
		    horizon, msg, msglen);
	json_decref(o);
	return rc;
}
