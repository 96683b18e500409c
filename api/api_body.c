/*
 * Decoding the API's JSON bodies (api_body.h).
 */
#include "api/api_body.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

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

/* The body as a JSON object, or NULL after bad(). */
static json_t *
body_object(const char *body, size_t len, char *msg, size_t msglen)
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

/* Only "resource", "family" and "mac", each a string. */
static int
alloc_fields(json_t *o, char *msg, size_t msglen)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		if (strcmp(k, "resource") != 0 && strcmp(k, "family") != 0 &&
		    strcmp(k, "mac") != 0)
			return bad(msg, msglen, "unknown field '%.64s'", k);
		if (!json_is_string(v))
			return bad(msg, msglen, "field '%s' must be a string",
			    k);
	}
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
	return 0;
}

int
api_body_allocation(const char *body, size_t len, struct api_alloc_body *b,
    char *msg, size_t msglen)
{
	json_t *o;
	int rc;

	memset(b, 0, sizeof(*b));
	b->family = IPAM_FAMILY_IPV4;
	if ((o = body_object(body, len, msg, msglen)) == NULL)
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

	if ((o = body_object(body, len, msg, msglen)) == NULL)
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
