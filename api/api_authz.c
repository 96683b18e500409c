/*
 * Who may do what: the checks api.c and the handlers make on the
 * client of a request (see api.h for the model).
 *
 * How this works: api.c fills in the request's local flag (the Unix
 * socket) or its api client line (a TLS client whose certificate one
 * names) before dispatch.  The route table says which role a route
 * needs; roles are ordered, read < allocate < admin, so a role may do
 * what the ones below it may.  Tenants are checked on the pool a
 * request touches: read and allocate clients see the pools of their
 * tenants ("*": every pool), admins every pool.
 */
#include "api/api.h"

#include "conf/conf.h"
#include "ipam/ipam.h"

bool
api_authz_admin(const struct api_req *ar)
{
	return ar->local || (ar->client != NULL &&
	    ar->client->role == CONF_API_ADMIN);
}

bool
api_authz_role(struct api_req *ar, enum conf_api_role need)
{
	if (ar->local || (ar->client != NULL && ar->client->role >= need))
		return true;
	if (ar->client == NULL)
		api_reply_error(ar, 403, "client certificate '%.64s' is not "
		    "allowed: no api client line names it", ar->who);
	else
		api_reply_error(ar, 403, "client '%.64s' (role %s) may not do "
		    "this: it needs role %s", ar->who,
		    conf_api_role_name(ar->client->role),
		    conf_api_role_name(need));
	return false;
}

bool
api_authz_tenant(const struct api_req *ar, const char *tenant)
{
	if (ar->local)
		return true;
	return ar->client != NULL && conf_api_client_sees(ar->client, tenant);
}

bool
api_authz_pool(const struct api_req *ar, const struct ipam_pool *p)
{
	return api_authz_tenant(ar, ipam_pool_tenant(p));
}
