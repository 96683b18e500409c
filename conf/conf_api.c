/*
 * The control API's statements: "api listen ... tls ..." (the TCP
 * listener) and "api client NAME role ROLE [tenant T ...]" (who may do
 * what over it).
 *
 * How this works: one handler per statement, like conf_cmd.c.  A TLS
 * client is known by its certificate's subject CN or one of its SAN DNS
 * names; "api client" maps that name to a role (read, allocate, admin)
 * and, for read and allocate, to the tenants whose pools it may see
 * ("tenant *" for every tenant, pools without one included).  A name
 * with no line is refused by the API; the parser only checks the
 * statement itself.
 */
#include "conf/conf_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const char *const role_names[] = {
	[CONF_API_READ] = "read",
	[CONF_API_ALLOCATE] = "allocate",
	[CONF_API_ADMIN] = "admin",
};

const char *
conf_api_role_name(enum conf_api_role role)
{
	return (size_t)role < nitems(role_names) ? role_names[role] : "?";
}

/* api listen ... */

static int
api_option(struct parser *p, int i, struct conf_api_listen *api)
{
	const char *key = cp_arg(p, i), *val = cp_arg(p, i + 1);
	char **slot;

	if (strcmp(key, "cert") == 0)
		slot = &api->cert;
	else if (strcmp(key, "key") == 0)
		slot = &api->key;
	else if (strcmp(key, "client-ca") == 0)
		slot = &api->client_ca;
	else if (strcmp(key, "crl") == 0)
		slot = &api->crl;
	else
		return cp_err(p, "unexpected '%s' in '%s'", key, p->line);
	if (val == NULL)
		return cp_err(p, "incomplete command '%s'", p->line);
	if (*slot != NULL)
		return cp_err(p, "'%s' given twice in '%s'", key, p->line);
	if (strlen(val) > CONF_MAX_PATH)
		return cp_err(p, "%s path longer than %d characters in '%s'",
		    key, CONF_MAX_PATH, p->line);
	*slot = xstrdup(val);
	return 0;
}

void
conf_api_listen_clear(struct conf_api_listen *api)
{
	free(api->cert);
	free(api->key);
	free(api->client_ca);
	free(api->crl);
	memset(api, 0, sizeof(*api));
}

/*
 * api listen ADDR PORT tls cert FILE key FILE client-ca FILE [crl FILE]:
 * TLS only, and client certificates are always required (the IPAM
 * issue); the options come in any order.
 */
int
cp_cmd_api_listen(struct parser *p)
{
	struct conf_api_listen api;
	uint64_t port;

	memset(&api, 0, sizeof(api));
	if (cp_want_args(p, 9, 11) == -1 || cp_arg_ip(p, 0, &api.addr) == -1 ||
	    cp_arg_uint(p, 1, "port", 1, UINT16_MAX, &port) == -1)
		return -1;
	if (strcmp(cp_arg(p, 2), "tls") != 0)
		return cp_err(p, "'%s': only 'tls' listeners are allowed",
		    p->line);
	for (int i = 3; i < cp_nargs(p); i += 2) {
		if (api_option(p, i, &api) == -1) {
			conf_api_listen_clear(&api);
			return -1;
		}
	}
	if (api.cert == NULL || api.key == NULL || api.client_ca == NULL) {
		conf_api_listen_clear(&api);
		return cp_err(p, "'%s' needs cert, key and client-ca",
		    p->line);
	}
	api.port = (uint16_t)port;
	api.enabled = true;
	conf_api_listen_clear(&p->conf->api_listen);
	p->conf->api_listen = api;
	return 0;
}

/* api client ... */

/*
 * A certificate name: what a CN or a DNS name holds in practice,
 * without spaces (the config splits words on them).
 */
static bool
client_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > CONF_API_CLIENT_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && strchr(".-_@", s[i]) ==
		    NULL)
			return false;
	return true;
}

/* Tenant names as "ipam pool ... tenant" takes them, or "*". */
static bool
tenant_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (strcmp(s, "*") == 0)
		return true;
	if (len == 0 || len > CONF_IPAM_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._-", s[i]) ==
		    NULL)
			return false;
	return true;
}

static int
client_role(struct parser *p, int i, enum conf_api_role *role)
{
	for (size_t r = 0; r < nitems(role_names); r++)
		if (strcmp(cp_arg(p, i), role_names[r]) == 0) {
			*role = (enum conf_api_role)r;
			return 0;
		}
	return cp_err(p, "invalid role '%s' in '%s' (read, allocate or "
	    "admin)", cp_arg(p, i), p->line);
}

static void
client_free(struct conf_api_client *c)
{
	for (size_t i = 0; i < c->ntenants; i++)
		free(c->tenants[i]);
	free(c->tenants);
	free(c->name);
	free(c);
}

void
conf_api_clients_clear(struct conf_api_client_list *l)
{
	struct conf_api_client *c;

	while ((c = TAILQ_FIRST(l)) != NULL) {
		TAILQ_REMOVE(l, c, entry);
		client_free(c);
	}
}

/* The words after "tenant": names, each once, "*" alone. */
static int
client_tenants(struct parser *p, int first, struct conf_api_client *c)
{
	int n = cp_nargs(p) - first;

	if (n <= 0)
		return cp_err(p, "incomplete command '%s'", p->line);
	if (c->role == CONF_API_ADMIN)
		return cp_err(p, "'%s': an admin client sees every tenant; "
		    "'tenant' is for read and allocate clients", p->line);
	c->tenants = xcalloc((size_t)n, sizeof(*c->tenants));
	for (int i = first; i < cp_nargs(p); i++) {
		const char *t = cp_arg(p, i);

		if (!tenant_name_ok(t))
			return cp_err(p, "invalid tenant '%s' in '%s' (1..%d "
			    "letters, digits, '.', '_' or '-', or '*')", t,
			    p->line, CONF_IPAM_NAME_MAX);
		if (conf_api_client_has_tenant(c, t) ||
		    (strcmp(t, "*") == 0 && c->ntenants > 0) ||
		    conf_api_client_has_tenant(c, "*"))
			return cp_err(p, "tenant '%s' repeated or beside '*' "
			    "in '%s'", t, p->line);
		c->tenants[c->ntenants++] = xstrdup(t);
	}
	return 0;
}

/* api client NAME role read|allocate|admin [tenant T ...] */
int
cp_cmd_api_client(struct parser *p)
{
	struct conf_api_client *c;

	if (cp_want_args(p, 3, CONF_MAX_WORDS) == -1)
		return -1;
	if (!client_name_ok(cp_arg(p, 0)))
		return cp_err(p, "invalid client name '%s' in '%s' (1..%d "
		    "letters, digits, '.', '-', '_' or '@': a certificate's "
		    "CN or DNS name)", cp_arg(p, 0), p->line,
		    CONF_API_CLIENT_NAME_MAX);
	if (conf_api_client_find(p->conf, cp_arg(p, 0)) != NULL)
		return cp_err(p, "duplicate '%s': api client %s is already "
		    "declared", p->line, cp_arg(p, 0));
	if (strcmp(cp_arg(p, 1), "role") != 0)
		return cp_err(p, "unexpected '%s' in '%s' (api client NAME "
		    "role ROLE [tenant T ...])", cp_arg(p, 1), p->line);
	c = xcalloc(1, sizeof(*c));
	c->name = xstrdup(cp_arg(p, 0));
	if (client_role(p, 2, &c->role) == -1)
		goto fail;
	if (cp_nargs(p) > 3) {
		if (strcmp(cp_arg(p, 3), "tenant") != 0) {
			cp_err(p, "unexpected '%s' in '%s'", cp_arg(p, 3),
			    p->line);
			goto fail;
		}
		if (client_tenants(p, 4, c) == -1)
			goto fail;
	}
	TAILQ_INSERT_TAIL(&p->conf->api_clients, c, entry);
	return 0;
fail:
	client_free(c);
	return -1;
}

/* Lookups */

const struct conf_api_client *
conf_api_client_find(const struct config *conf, const char *name)
{
	const struct conf_api_client *c;

	TAILQ_FOREACH(c, &conf->api_clients, entry)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

bool
conf_api_client_has_tenant(const struct conf_api_client *c,
    const char *tenant)
{
	for (size_t i = 0; i < c->ntenants; i++)
		if (strcmp(c->tenants[i], tenant) == 0)
			return true;
	return false;
}

bool
conf_api_client_sees(const struct conf_api_client *c, const char *tenant)
{
	if (c->role == CONF_API_ADMIN || conf_api_client_has_tenant(c, "*"))
		return true;
	return tenant != NULL && conf_api_client_has_tenant(c, tenant);
}

/* Printing */

void
conf_print_api(FILE *f, const struct config *c)
{
	const struct conf_api_listen *api = &c->api_listen;
	const struct conf_api_client *cl;
	char a[IPADDR_STRLEN];

	if (!api->enabled && TAILQ_EMPTY(&c->api_clients))
		return;
	if (api->enabled) {
		fprintf(f, "api listen %s %u tls cert %s key %s client-ca %s",
		    ipaddr_fmt(&api->addr, a, sizeof(a)), api->port,
		    api->cert, api->key, api->client_ca);
		if (api->crl != NULL)
			fprintf(f, " crl %s", api->crl);
		fprintf(f, "\n");
	}
	TAILQ_FOREACH(cl, &c->api_clients, entry) {
		fprintf(f, "api client %s role %s", cl->name,
		    conf_api_role_name(cl->role));
		if (cl->ntenants > 0)
			fprintf(f, " tenant");
		for (size_t i = 0; i < cl->ntenants; i++)
			fprintf(f, " %s", cl->tenants[i]);
		fprintf(f, "\n");
	}
	fprintf(f, "!\n");
}
