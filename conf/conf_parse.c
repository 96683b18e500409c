/*
 * The Quagga/FRR-style config parser.
 *
 * How this works: the text is cut into lines (through struct rbuf, so
 * no read goes past the buffer), each line is trimmed and split into
 * words.  Lines whose first character is '!' or '#' are comments; a
 * '!' or '#' later in a line is ordinary text (a description or a
 * password may hold one).
 *
 * The parser is in one node at a time, like FRR's CLI: the top level,
 * "router bgp", an address-family, an EVPN "vni", "vxlan" or "vrf".
 * Each node has a table of commands (conf_cmd.c) given as keywords ("*" matches any
 * one word, e.g. the neighbor address).  A line is looked up in the
 * current node, then in its parent, and so on up to the top level; a
 * match in a parent leaves the inner blocks first, which is how FRR
 * lets a top-level command end a block without "exit".  A line that
 * matches only in some other node is reported as misplaced, naming the
 * blocks where it belongs.
 *
 * Checks that need the whole file (a vrf's VNI must have a vxlan block,
 * "router bgp ASN vrf NAME" needs a "vrf NAME" block) are recorded with
 * their line and run once the last line is read.  The first error stops
 * the parse; the half-built config is freed and the caller gets NULL
 * and "FILE:LINE: message" quoting the offending line.
 */
#include "conf/conf_parse.h"

#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"

/* Error reporting and argument helpers */

int
cp_err(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, p->lineno);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

int
cp_nargs(const struct parser *p)
{
	return p->nwords - p->argi;
}

const char *
cp_arg(const struct parser *p, int i)
{
	return p->argi + i < p->nwords ? p->word[p->argi + i] : NULL;
}

int
cp_want_args(struct parser *p, int min, int max)
{
	if (cp_nargs(p) < min)
		return cp_err(p, "incomplete command '%s'", p->line);
	if (cp_nargs(p) > max)
		return cp_err(p, "unexpected '%s' in '%s'", cp_arg(p, max), p->line);
	return 0;
}

int
cp_arg_uint(struct parser *p, int i, const char *what, uint64_t min,
    uint64_t max, uint64_t *out)
{
	if (parse_uint(cp_arg(p, i), min, max, out) == -1)
		return cp_err(p, "invalid %s '%s' in '%s' (%llu..%llu)", what,
		    cp_arg(p, i), p->line, (unsigned long long)min,
		    (unsigned long long)max);
	return 0;
}

int
cp_arg_asn(struct parser *p, int i, uint32_t *asn)
{
	uint64_t v;

	if (parse_uint(cp_arg(p, i), 1, UINT32_MAX, &v) == -1)
		return cp_err(p, "invalid AS number '%s' in '%s' "
		    "(1..4294967295)", cp_arg(p, i), p->line);
	*asn = (uint32_t)v;
	return 0;
}

int
cp_arg_vni(struct parser *p, int i, uint32_t *vni)
{
	uint64_t v;

	if (cp_arg_uint(p, i, "VNI", 1, VNI_MAX, &v) == -1)
		return -1;
	*vni = (uint32_t)v;
	return 0;
}

int
cp_arg_ipv4(struct parser *p, int i, struct ipaddr *a)
{
	if (ipaddr_parse(cp_arg(p, i), a) == -1 || a->af != AF_INET)
		return cp_err(p, "invalid IPv4 address '%s' in '%s'", cp_arg(p, i),
		    p->line);
	return 0;
}

int
cp_arg_ip(struct parser *p, int i, struct ipaddr *a)
{
	if (ipaddr_parse(cp_arg(p, i), a) == -1)
		return cp_err(p, "invalid IP address '%s' in '%s'", cp_arg(p, i),
		    p->line);
	return 0;
}

/* A Linux interface name: 1..IFNAMSIZ-1 bytes, no '/' (dev_valid_name). */
int
cp_arg_ifname(struct parser *p, int i, char **out)
{
	const char *s = cp_arg(p, i);

	if (strlen(s) >= IFNAMSIZ || strchr(s, '/') != NULL ||
	    strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return cp_err(p, "invalid interface name '%s' in '%s' "
		    "(1..%d characters, no '/')", s, p->line, IFNAMSIZ - 1);
	free(*out);
	*out = xstrdup(s);
	return 0;
}

/* A unicast MAC: the I/G bit (first octet, bit 0) must be clear. */
int
cp_arg_unicast_mac(struct parser *p, int i, struct macaddr *m)
{
	if (mac_parse(cp_arg(p, i), m) == -1)
		return cp_err(p, "invalid MAC address '%s' in '%s'", cp_arg(p, i),
		    p->line);
	if (mac_is_zero(m) || (m->b[0] & 0x01))
		return cp_err(p, "MAC address '%s' is not a unicast address "
		    "in '%s'", cp_arg(p, i), p->line);
	return 0;
}

void
cp_check_add(struct parser *p, enum check_kind kind, const void *obj)
{
	cp_check_add2(p, kind, obj, NULL);
}

void
cp_check_add2(struct parser *p, enum check_kind kind, const void *obj,
    const void *obj2)
{
	if (p->nchecks == p->capchecks) {
		p->capchecks = p->capchecks ? p->capchecks * 2 : 16;
		p->checks = xrealloc(p->checks,
		    p->capchecks * sizeof(*p->checks));
	}
	p->checks[p->nchecks].kind = kind;
	p->checks[p->nchecks].line = p->lineno;
	p->checks[p->nchecks].obj = obj;
	p->checks[p->nchecks].obj2 = obj2;
	p->checks[p->nchecks].text[0] = '\0';
	p->nchecks++;
}

/* Dispatch */

enum match { MATCH_NONE, MATCH_FULL, MATCH_PREFIX };

/* Does the line start with the keywords?  Sets *nkw to their count. */
static enum match
command_match(const struct parser *p, const char *keywords, int *nkw)
{
	const char *kw = keywords;
	int i;

	for (i = 0; *kw != '\0'; i++) {
		size_t len = strcspn(kw, " ");

		if (i == p->nwords)
			return MATCH_PREFIX;
		if (!(len == 1 && kw[0] == '*') &&
		    (strlen(p->word[i]) != len ||
		    strncmp(p->word[i], kw, len) != 0))
			return MATCH_NONE;
		kw += len;
		kw += strspn(kw, " ");
	}
	*nkw = i;
	return MATCH_FULL;
}

static const struct command *
node_lookup(const struct parser *p, enum node node, int *nkw,
    bool *prefix)
{
	const struct node_def *nd = &cp_nodes[node];

	for (size_t i = 0; i < nd->ncmds; i++) {
		switch (command_match(p, nd->cmds[i].keywords, nkw)) {
		case MATCH_FULL:
			return &nd->cmds[i];
		case MATCH_PREFIX:
			*prefix = true;
			break;
		case MATCH_NONE:
			break;
		}
	}
	return NULL;
}

/* Leaving blocks: forget the objects of the nodes left behind. */
void
cp_enter_node(struct parser *p, enum node node)
{
	p->node = node;
	if (node != NODE_EVPN_VNI)
		p->vni = NULL;
	if (node != NODE_VXLAN)
		p->vxlan = NULL;
	if (node != NODE_VRF)
		p->vrf = NULL;
	if (node == NODE_TOP || node == NODE_VXLAN || node == NODE_VRF ||
	    node == NODE_IPAM_POOL || node == NODE_IPAM_SHADOW ||
	    node == NODE_IPAM_DATASTORE || node == NODE_TELEMETRY)
		p->bgp = NULL;
	if (node != NODE_IPAM_POOL && node != NODE_IPAM_SHADOW)
		p->pool = NULL;
}

/* The line matched no node on the way up: say where it would fit. */
static int
explain_no_match(struct parser *p)
{
	char where[512];
	const char *last = NULL;
	bool prefix = false;
	int nkw, found = 0;

	where[0] = '\0';
	for (int n = 0; n < NODE_COUNT; n++) {
		if (node_lookup(p, (enum node)n, &nkw, &prefix) == NULL)
			continue;
		if (last != NULL) {
			size_t len = strlen(where);

			snprintf(where + len, sizeof(where) - len, "%s%s",
			    found > 1 ? ", " : "", last);
		}
		last = cp_nodes[n].where;
		found++;
	}
	if (found == 0 && prefix)
		return cp_err(p, "incomplete command '%s'", p->line);
	if (found == 0)
		return cp_err(p, "unknown command '%s'", p->line);
	if (found == 1)
		return cp_err(p, "'%s' is not valid here; it belongs in %s",
		    p->line, last);
	return cp_err(p, "'%s' is not valid here; it belongs in %s or %s",
	    p->line, where, last);
}

static int
dispatch(struct parser *p)
{
	const struct command *cmd;
	enum node node = p->node;
	bool prefix = false;
	int nkw;

	for (;;) {
		if ((cmd = node_lookup(p, node, &nkw, &prefix)) != NULL) {
			cp_enter_node(p, node);
			p->argi = nkw;
			return cmd->run(p);
		}
		if (node == NODE_TOP)
			break;
		node = cp_nodes[node].parent;
	}
	return explain_no_match(p);
}

/* Lines */

static void
next_line(struct rbuf *text, struct rbuf *line)
{
	const uint8_t *nl;
	size_t len = rbuf_left(text);

	nl = memchr(rbuf_ptr(text), '\n', len);
	if (nl != NULL)
		len = (size_t)(nl - rbuf_ptr(text));
	rbuf_slice(text, len, line);
	if (nl != NULL)
		rbuf_skip(text, 1);
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Copy one line, trimmed, into p->line and split it into p->word. */
static int
line_load(struct parser *p, struct rbuf *rb)
{
	size_t len = rbuf_left(rb), start = 0, i;
	char *w;

	p->nwords = 0;
	if (len > CONF_MAX_LINE)
		return cp_err(p, "line longer than %d characters", CONF_MAX_LINE);
	rbuf_get_bytes(rb, p->line, len);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p->line[i];

		if ((c < 0x20 && !is_blank((char)c)) || c == 0x7f)
			return cp_err(p, "invalid character 0x%02x", c);
	}
	while (len > 0 && is_blank(p->line[len - 1]))
		len--;
	while (start < len && is_blank(p->line[start]))
		start++;
	memmove(p->line, p->line + start, len - start);
	p->line[len - start] = '\0';
	if (p->line[0] == '!' || p->line[0] == '#')
		return 0;
	memcpy(p->words_buf, p->line, len - start + 1);
	for (w = p->words_buf; *w != '\0';) {
		if (is_blank(*w)) {
			*w++ = '\0';
			continue;
		}
		if (p->nwords == CONF_MAX_WORDS)
			return cp_err(p, "more than %d words in '%s'",
			    CONF_MAX_WORDS, p->line);
		p->word_off[p->nwords] = (size_t)(w - p->words_buf);
		p->word[p->nwords++] = w;
		while (*w != '\0' && !is_blank(*w))
			w++;
	}
	return 0;
}

/* Whole-file checks */

/* RFC 9687 §4.4: a send hold time that is not 0 exceeds the hold time. */
static int
check_send_hold(struct parser *p, const struct conf_neighbor *n)
{
	char a[IPADDR_STRLEN];

	if (n->send_hold == 0 || n->send_hold > conf_neighbor_holdtime(n))
		return 0;
	return cp_err(p, "neighbor %s: send hold time %u is not greater than "
	    "the hold time %u (RFC 9687 4.4)", ipaddr_fmt(&n->addr, a,
	    sizeof(a)), n->send_hold, conf_neighbor_holdtime(n));
}

static int
check_run(struct parser *p, const struct pending_check *chk)
{
	const struct conf_vxlan *vx = chk->obj;
	const struct conf_vrf *vrf = chk->obj, *l3;
	const struct conf_bgp *bgp = chk->obj;
	const struct conf_evpn_vni *v = chk->obj;

	p->lineno = chk->line;
	switch (chk->kind) {
	case CHECK_VXLAN_HAS_VNI:
		if (vx->vni == 0)
			return cp_err(p, "vxlan %s: no 'vni' statement",
			    vx->name);
		break;
	case CHECK_VRF_VNI_HAS_VXLAN:
		if (conf_vxlan_by_vni(p->conf, vrf->vni) == NULL)
			return cp_err(p, "vrf %s: vni %u has no vxlan block",
			    vrf->name, vrf->vni);
		break;
	case CHECK_BGP_VRF_DECLARED:
		if (conf_vrf_find(p->conf, bgp->vrf_name) == NULL)
			return cp_err(p, "vrf %s is not declared; add a "
			    "'vrf %s' block", bgp->vrf_name, bgp->vrf_name);
		break;
	case CHECK_VXLAN_SVI_VRF:
		if ((l3 = conf_vrf_find(p->conf, vx->svi_vrf)) == NULL)
			return cp_err(p, "vxlan %s: svi-vrf %s is not declared; "
			    "add a 'vrf %s' block", vx->name, vx->svi_vrf,
			    vx->svi_vrf);
		if (l3->vni == vx->vni)
			return cp_err(p, "vxlan %s: VNI %u is the L3 VNI of vrf "
			    "%s; svi-vrf is for L2 VNIs", vx->name, vx->vni,
			    l3->name);
		break;
	case CHECK_NB_SEND_HOLD:
		return check_send_hold(p, chk->obj);
	case CHECK_TELEMETRY:
		return cp_telemetry_check(p, chk->obj);
	case CHECK_EVPN_VNI_NOT_L3:
		if ((l3 = conf_vrf_by_vni(p->conf, v->vni)) != NULL)
			return cp_err(p, "vni %u is the L3 VNI of vrf %s; it "
			    "cannot also have an L2 'vni' block", v->vni,
			    l3->name);
		break;
	default:
		return cp_ipam_check(p, chk);
	}
	return 0;
}

static struct config *
config_new(void)
{
	struct config *c = xcalloc(1, sizeof(*c));

	c->log_dest = LOG_DEST_STDOUT;
	c->log_level = CONF_DEFAULT_LOG_LEVEL;
	TAILQ_INIT(&c->bgps);
	TAILQ_INIT(&c->vxlans);
	TAILQ_INIT(&c->vrfs);
	TAILQ_INIT(&c->ipam_pools);
	TAILQ_INIT(&c->api_clients);
	conf_telemetry_clear(&c->telemetry);
	return c;
}

static int
parse_text(struct parser *p, const char *text, size_t len)
{
	struct rbuf rb, line;

	rbuf_init(&rb, text, len);
	while (rbuf_left(&rb) > 0) {
		p->lineno++;
		next_line(&rb, &line);
		if (line_load(p, &line) == -1)
			return -1;
		if (p->nwords > 0 && dispatch(p) == -1)
			return -1;
	}
	for (size_t i = 0; i < p->nchecks; i++)
		if (check_run(p, &p->checks[i]) == -1)
			return -1;
	return 0;
}

static struct config *
parse_buffer(const char *text, size_t len, const char *name, char *err,
    size_t errlen)
{
	struct parser *p = xcalloc(1, sizeof(*p));
	struct config *c;
	int rv;

	p->name = name;
	p->err = err;
	p->errlen = errlen;
	p->conf = c = config_new();
	p->node = NODE_TOP;
	if (errlen > 0)
		err[0] = '\0';
	rv = parse_text(p, text, len);
	free(p->checks);
	freezero(p, sizeof(*p));	/* its line buffers held a password */
	if (rv == -1) {
		conf_free(c);
		return NULL;
	}
	return c;
}

struct config *
conf_parse_string(const char *text, const char *name, char *err,
    size_t errlen)
{
	return parse_buffer(text, strlen(text), name, err, errlen);
}

/*
 * Read the whole file; a config is small, so cap it rather than stream.
 * It holds passwords: unbuffered reads (no stdio copy), and what is
 * outgrown or returned is zeroed before it is freed (by the caller).
 */
static char *
read_file(const char *path, size_t *lenp, char *err, size_t errlen)
{
	FILE *f;
	char *text = NULL, *bigger;
	size_t len = 0, cap = 0, n;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	setvbuf(f, NULL, _IONBF, 0);
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 8192;
			bigger = xmalloc(cap);
			if (len > 0)
				memcpy(bigger, text, len);
			freezero(text, len);
			text = bigger;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
	} while (n > 0 && len <= CONF_MAX_FILE);
	if (ferror(f) || len > CONF_MAX_FILE) {
		snprintf(err, errlen, "%s: %s", path, ferror(f) ?
		    strerror(errno) : "file larger than 16 MiB");
		freezero(text, len);
		text = NULL;
	}
	fclose(f);
	*lenp = len;
	return text;
}

struct config *
conf_parse_file(const char *path, char *err, size_t errlen)
{
	struct config *c;
	char *text;
	size_t len;

	if ((text = read_file(path, &len, err, errlen)) == NULL)
		return NULL;
	c = parse_buffer(text, len, path, err, errlen);
	freezero(text, len);
	return c;
}
