/*
 * The DNS statements of an "ipam pool" block:
 *
 *   dns zone ZONE server ADDR tsig ALG NAME SECRET [reverse] [ttl N]
 *   dns name-template TEMPLATE
 *
 * How this works: each statement is checked on its own line (names as
 * RFC 1035 §2.3.4 bounds them, the TSIG algorithm among those RFC 8945
 * §6 lists that are still allowed, the secret as base64, the template's
 * placeholders); a template without a zone is caught once the whole
 * file is read, since "dns zone" may come later in the block.  Names
 * are kept without a trailing dot and in lower case, so the printer's
 * output is a fixed point.
 */
#include "conf/conf_parse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* RFC 8945 §6: HMAC-MD5 is deprecated; the SHA-2 family and SHA-1. */
static const char *const tsig_algs[] = {
	"hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384",
	"hmac-sha512",
};

/*
 * A domain name: labels of 1..63 letters, digits, '-' or '_', at most
 * 253 characters in all (RFC 1035 §2.3.4).  A trailing dot is allowed
 * and dropped.  Lower-cased into out (malloc'd); -1 when bad.
 */
static int
dns_name_norm(const char *s, char **out)
{
	size_t len = strlen(s), label = 0;
	char *n;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > CONF_DNS_NAME_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return -1;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_')
			return -1;
		if (++label > 63)
			return -1;
	}
	if (label == 0)
		return -1;	/* "a..": an empty last label */
	n = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		n[i] = (char)tolower((unsigned char)s[i]);
	n[len] = '\0';
	*out = n;
	return 0;
}

static int
arg_dns_name(struct parser *p, int i, const char *what, char **out)
{
	char *n;

	if (dns_name_norm(cp_arg(p, i), &n) == -1)
		return cp_err(p, "invalid %s '%s' in 'dns zone ...' (a domain "
		    "name: labels of 1..63 letters, digits, '-' or '_', %d "
		    "characters at most)", what, cp_arg(p, i),
		    CONF_DNS_NAME_MAX);
	free(*out);
	*out = n;
	return 0;
}

static int
arg_tsig_alg(struct parser *p, int i, char **out)
{
	for (size_t k = 0; k < nitems(tsig_algs); k++) {
		if (strcmp(cp_arg(p, i), tsig_algs[k]) == 0) {
			free(*out);
			*out = xstrdup(tsig_algs[k]);
			return 0;
		}
	}
	return cp_err(p, "invalid TSIG algorithm '%s' in 'dns zone ...' "
	    "(hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384 or "
	    "hmac-sha512)", cp_arg(p, i));
}

/* The secret is never quoted back in a message. */
static int
arg_tsig_secret(struct parser *p, int i, char **out)
{
	if (!base64_valid(cp_arg(p, i), CONF_DNS_SECRET_MAX))
		return cp_err(p, "invalid TSIG secret in 'dns zone ...' "
		    "(base64, at most %d characters)", CONF_DNS_SECRET_MAX);
	if (*out != NULL)
		explicit_bzero(*out, strlen(*out));
	free(*out);
	*out = xstrdup(cp_arg(p, i));
	return 0;
}

/* [reverse] [ttl N] after the secret, in any order, each once. */
static int
dns_zone_options(struct parser *p, int from, struct conf_ipam_dns *dns)
{
	bool rev = false, ttl = false;
	uint64_t v;

	for (int i = from; i < cp_nargs(p); i++) {
		if (strcmp(cp_arg(p, i), "reverse") == 0 && !rev) {
			rev = dns->reverse = true;
		} else if (strcmp(cp_arg(p, i), "ttl") == 0 && !ttl &&
		    i + 1 < cp_nargs(p)) {
			if (parse_uint(cp_arg(p, i + 1), 1, CONF_DNS_MAX_TTL,
			    &v) == -1)
				return cp_err(p, "invalid ttl '%s' in 'dns "
				    "zone ...' (1..%d)", cp_arg(p, i + 1),
				    CONF_DNS_MAX_TTL);
			dns->ttl = (uint32_t)v;
			ttl = true;
			i++;
		} else
			return cp_err(p, "unexpected '%s' in 'dns zone ...' "
			    "(after the secret: [reverse] [ttl N])",
			    cp_arg(p, i));
	}
	return 0;
}

static int
arg_server(struct parser *p, int i, struct ipaddr *out)
{
	if (ipaddr_parse(cp_arg(p, i), out) == -1)
		return cp_err(p, "invalid server address '%s' in 'dns zone "
		    "...'", cp_arg(p, i));
	return 0;
}

/*
 * dns zone ZONE server ADDR tsig ALG NAME SECRET [reverse] [ttl N]
 * Messages name the statement without quoting it: it holds the secret.
 */
int
cp_cmd_pool_dns_zone(struct parser *p)
{
	struct conf_ipam_dns *dns = &p->pool->dns;

	if (cp_nargs(p) < 7)
		return cp_err(p, "incomplete command 'dns zone ...' (dns zone "
		    "ZONE server ADDR tsig ALG NAME SECRET [reverse] "
		    "[ttl N])");
	if (strcmp(cp_arg(p, 1), "server") != 0 ||
	    strcmp(cp_arg(p, 3), "tsig") != 0)
		return cp_err(p, "expected 'dns zone ZONE server ADDR tsig ALG "
		    "NAME SECRET [reverse] [ttl N]'");
	dns->reverse = false;
	dns->ttl = CONF_DNS_DEFAULT_TTL;
	if (arg_dns_name(p, 0, "zone", &dns->zone) == -1 ||
	    arg_server(p, 2, &dns->server) == -1 ||
	    arg_tsig_alg(p, 4, &dns->tsig_alg) == -1 ||
	    arg_dns_name(p, 5, "TSIG key name", &dns->tsig_name) == -1 ||
	    arg_tsig_secret(p, 6, &dns->tsig_secret) == -1 ||
	    dns_zone_options(p, 7, dns) == -1)
		return -1;
	return 0;
}

/* {resource} {pool} {ip} {label:KEY}; len is the placeholder's length
 * with its braces, 0 when it is not one. */
static size_t
template_placeholder(const char *s)
{
	static const char *const fixed[] = { "{resource}", "{pool}", "{ip}" };
	size_t n;

	for (size_t i = 0; i < nitems(fixed); i++)
		if (strncmp(s, fixed[i], strlen(fixed[i])) == 0)
			return strlen(fixed[i]);
	if (strncmp(s, "{label:", 7) != 0)
		return 0;
	n = strspn(s + 7, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._/-");
	return n > 0 && s[7 + n] == '}' ? 7 + n + 1 : 0;
}

/* Literal letters, digits, '-', '_' and '.', and placeholders. */
static bool
template_valid(const char *s)
{
	size_t len = strlen(s), n;

	if (len == 0 || len > CONF_DNS_NAME_MAX)
		return false;
	while (*s != '\0') {
		if (*s == '{') {
			if ((n = template_placeholder(s)) == 0)
				return false;
			s += n;
			continue;
		}
		if (!isalnum((unsigned char)*s) && strchr("-_.", *s) == NULL)
			return false;
		s++;
	}
	return true;
}

int
cp_cmd_pool_dns_template(struct parser *p)
{
	struct conf_ipam_dns *dns = &p->pool->dns;

	if (cp_want_args(p, 1, 1) == -1)
		return -1;
	if (!template_valid(cp_arg(p, 0)))
		return cp_err(p, "invalid name template '%s' in '%s' "
		    "(letters, digits, '-', '_', '.' and {resource}, {pool}, "
		    "{ip}, {label:KEY}; %d characters at most)", cp_arg(p, 0),
		    p->line, CONF_DNS_NAME_MAX);
	if (dns->name_template == NULL)
		cp_check_add(p, CHECK_IPAM_DNS, p->pool);
	free(dns->name_template);
	dns->name_template = xstrdup(cp_arg(p, 0));
	return 0;
}

int
cp_dns_check(struct parser *p, const struct conf_ipam_pool *pool)
{
	if (pool->dns.name_template != NULL && pool->dns.zone == NULL)
		return cp_err(p, "ipam pool %s: 'dns name-template' needs a "
		    "'dns zone' statement", pool->name);
	return 0;
}

void
conf_print_ipam_dns(FILE *f, const struct conf_ipam_dns *dns, bool redact)
{
	char a[IPADDR_STRLEN];

	if (dns->zone != NULL) {
		fprintf(f, " dns zone %s server %s tsig %s %s %s", dns->zone,
		    ipaddr_fmt(&dns->server, a, sizeof(a)), dns->tsig_alg,
		    dns->tsig_name, redact ? CONF_REDACTED :
		    dns->tsig_secret);
		if (dns->reverse)
			fprintf(f, " reverse");
		if (dns->ttl != CONF_DNS_DEFAULT_TTL)
			fprintf(f, " ttl %u", dns->ttl);
		fprintf(f, "\n");
	}
	if (dns->name_template != NULL)
		fprintf(f, " dns name-template %s\n", dns->name_template);
}
