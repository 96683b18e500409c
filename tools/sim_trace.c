/*
 * Trace reader for shadowsim: "time_s,vni,event,resource" CSV, plus
 * "time_s,vni,traffic,RATE" and "time_s,vni,neigh_miss,SOURCE,TARGET".
 *
 * The file is untrusted text, so it is walked with the rbuf reader: each
 * line is sliced off as its own window, then each field.  Times are
 * parsed as decimal seconds straight into integer milliseconds (no
 * floating point, so a trace replays identically everywhere); digits
 * past the millisecond are rounded half up.  Events out of time order
 * are put in order with a stable merge sort.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/buf.h"
#include "common/util.h"
#include "tools/sim.h"

#define TRACE_FIELD_MAX	256
#define TRACE_MAX_TIME_S 1000000000LL	/* ~31 years: ms fit easily */
#define TRACE_MAX_RATE	1e12		/* packets/s: past any fabric */

static const char *const event_names[] = {
	[SIM_EV_ALLOC] = "alloc",
	[SIM_EV_RELEASE] = "release",
	[SIM_EV_ROUTE_ADD] = "route_add",
	[SIM_EV_ROUTE_DEL] = "route_del",
	[SIM_EV_TRAFFIC] = "traffic",
	[SIM_EV_NEIGH_MISS] = "neigh_miss",
};

const char *
sim_event_name(enum sim_event_kind k)
{
	return event_names[k];
}

static void
trace_err(char *err, size_t errlen, const char *name, size_t line,
    const char *fmt, ...)
{
	char	 msg[160];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%zu: %s", name, line, msg);
}

/* Slice the next line (without its '\n', and without a '\r'). */
static int
next_line(struct rbuf *in, struct rbuf *line)
{
	const uint8_t	*nl;
	size_t		 left = rbuf_left(in), len;

	if (left == 0)
		return -1;
	nl = memchr(rbuf_ptr(in), '\n', left);
	len = nl != NULL ? (size_t)(nl - rbuf_ptr(in)) : left;
	if (rbuf_slice(in, len, line) == -1)
		return -1;
	if (nl != NULL)
		(void)rbuf_skip(in, 1);
	if (line->len > 0 && line->data[line->len - 1] == '\r')
		line->len--;
	return 0;
}

/* Copy the next comma-separated field into out (NUL-terminated). */
static int
next_field(struct rbuf *line, char *out, size_t outlen)
{
	size_t	 n = 0;
	uint8_t	 c;

	while (rbuf_get_u8(line, &c) == 0 && c != ',') {
		if (n + 1 >= outlen || c == '\0')
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

/* "12.345" -> 12345; digits past the millisecond round half up. */
static int
parse_time_ms(const char *s, int64_t *ms)
{
	int64_t	 whole = 0, frac = 0;
	int	 fdigits = 0;
	bool	 any = false, round_up = false;

	for (; *s >= '0' && *s <= '9'; s++, any = true) {
		whole = whole * 10 + (*s - '0');
		if (whole > TRACE_MAX_TIME_S)
			return -1;
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, any = true) {
			if (fdigits < 3)
				frac = frac * 10 + (*s - '0');
			else if (fdigits == 3)
				round_up = *s >= '5';
			fdigits++;
		}
	}
	if (!any || *s != '\0')
		return -1;
	for (; fdigits < 3; fdigits++)
		frac *= 10;
	*ms = whole * 1000 + frac + (round_up ? 1 : 0);
	return 0;
}

static int
parse_vni(const char *s, uint32_t *vni)
{
	char		*end;
	unsigned long	 v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 0xffffff)
		return -1;	/* a VNI is 24 bits, RFC 7348 §5 */
	*vni = (uint32_t)v;
	return 0;
}

static int
parse_kind(const char *s, enum sim_event_kind *k)
{
	for (size_t i = 0; i < nitems(event_names); i++) {
		if (strcmp(s, event_names[i]) == 0) {
			*k = (enum sim_event_kind)i;
			return 0;
		}
	}
	return -1;
}

/* An interned resource id; tr->names[id] points at its text.  Ids are
 * numbered in order of appearance, so the keyed hash (the ids were
 * chosen by API clients) leaves runs reproducible. */
struct sim_name {
	struct hash_node node;
	uint32_t	 hash;
	uint32_t	 id;
	char		 s[];
};

static uint32_t
name_hash(const struct hash_node *n)
{
	return hash_entry(n, struct sim_name, node)->hash;
}

static bool
name_equal(const struct hash_node *n, const void *s)
{
	return strcmp(hash_entry(n, struct sim_name, node)->s, s) == 0;
}

static const struct hash_ops name_ops = { name_hash, name_equal };

static uint32_t
intern(struct sim_trace *tr, const char *s)
{
	size_t		 len = strlen(s);
	uint32_t	 h = hash_bytes_keyed(s, len);
	struct hash_node *n = hash_find(&tr->by_name, h, s);
	struct sim_name	*name;

	if (n != NULL)
		return hash_entry(n, struct sim_name, node)->id;
	if (tr->nnames == tr->capnames) {
		tr->capnames = tr->capnames == 0 ? 1024 : tr->capnames * 2;
		tr->names = xrealloc(tr->names,
		    tr->capnames * sizeof(*tr->names));
	}
	name = xmalloc(sizeof(*name) + len + 1);
	name->hash = h;
	name->id = (uint32_t)tr->nnames;
	memcpy(name->s, s, len + 1);
	hash_insert(&tr->by_name, &name->node);
	tr->names[tr->nnames] = name->s;
	return (uint32_t)tr->nnames++;
}

static void
note_vni(struct sim_trace *tr, uint32_t vni)
{
	for (size_t i = 0; i < tr->nvnis; i++)
		if (tr->vnis[i] == vni)
			return;
	tr->vnis = xrealloc(tr->vnis, (tr->nvnis + 1) * sizeof(*tr->vnis));
	tr->vnis[tr->nvnis++] = vni;
}

static void
push_event(struct sim_trace *tr, const struct sim_event *ev)
{
	if (tr->nevents == tr->capevents) {
		tr->capevents = tr->capevents == 0 ? 4096 : tr->capevents * 2;
		tr->events = xrealloc(tr->events,
		    tr->capevents * sizeof(*tr->events));
	}
	tr->events[tr->nevents++] = *ev;
}

/* A rate: plain decimal digits with an optional fraction, no sign, no
 * exponent, no "nan" (strtod would take all three). */
static int
parse_rate(const char *s, double *v)
{
	const char	*p = s;
	char		*end;
	bool		 any = false;

	for (; *p >= '0' && *p <= '9'; p++)
		any = true;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			any = true;
	if (!any || *p != '\0')
		return -1;
	errno = 0;
	*v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(*v <= TRACE_MAX_RATE))
		return -1;
	return 0;
}

/* What follows the event name: a resource, a rate, or two addresses. */
static int
parse_payload(struct sim_trace *tr, struct sim_event *ev,
    char f[][TRACE_FIELD_MAX], struct rbuf *line, const char *name, size_t lineno, char *err,
    size_t errlen)
{
	struct ipaddr	 a;

	if (ev->kind == SIM_EV_TRAFFIC) {
		if (parse_rate(f[3], &ev->value) == -1) {
			trace_err(err, errlen, name, lineno, "bad traffic "
			    "rate \"%s\"", f[3]);
			return -1;
		}
		ev->resource = 0;
		return 0;
	}
	if (f[3][0] == '\0') {
		trace_err(err, errlen, name, lineno, "empty resource");
		return -1;
	}
	if (ev->kind != SIM_EV_NEIGH_MISS) {
		ev->resource = intern(tr, f[3]);
		return 0;
	}
	if (rbuf_left(line) == 0 ||
	    next_field(line, f[4], TRACE_FIELD_MAX) == -1) {
		trace_err(err, errlen, name, lineno, "neigh_miss needs "
		    "SOURCE,TARGET");
		return -1;
	}
	for (int i = 3; i <= 4; i++)
		if (ipaddr_parse(f[i], &a) == -1) {
			trace_err(err, errlen, name, lineno, "bad address "
			    "\"%s\"", f[i]);
			return -1;
		}
	ev->resource = intern(tr, f[3]);
	ev->target = intern(tr, f[4]);
	return 0;
}

static int
parse_line(struct sim_trace *tr, struct rbuf *line, const char *name,
    size_t lineno, char *err, size_t errlen)
{
	char		 f[5][TRACE_FIELD_MAX];
	struct sim_event ev;

	memset(&ev, 0, sizeof(ev));
	for (int i = 0; i < 4; i++) {
		if (next_field(line, f[i], sizeof(f[i])) == -1) {
			trace_err(err, errlen, name, lineno,
			    "field %d too long or invalid", i + 1);
			return -1;
		}
	}
	if (parse_time_ms(f[0], &ev.t_ms) == -1) {
		trace_err(err, errlen, name, lineno, "bad time \"%s\"", f[0]);
		return -1;
	}
	if (parse_vni(f[1], &ev.vni) == -1) {
		trace_err(err, errlen, name, lineno, "bad vni \"%s\"", f[1]);
		return -1;
	}
	if (parse_kind(f[2], &ev.kind) == -1) {
		trace_err(err, errlen, name, lineno, "bad event \"%s\"", f[2]);
		return -1;
	}
	if (parse_payload(tr, &ev, f, line, name, lineno, err, errlen) == -1)
		return -1;
	if (rbuf_left(line) != 0) {
		trace_err(err, errlen, name, lineno, "too many fields");
		return -1;
	}
	note_vni(tr, ev.vni);
	push_event(tr, &ev);
	return 0;
}

static void
merge_sort(struct sim_event *ev, struct sim_event *tmp, size_t n)
{
	size_t	 mid = n / 2, i = 0, j = mid, k = 0;

	if (n < 2)
		return;
	merge_sort(ev, tmp, mid);
	merge_sort(ev + mid, tmp, n - mid);
	while (i < mid && j < n)	/* <= keeps equal times in order */
		tmp[k++] = ev[j].t_ms < ev[i].t_ms ? ev[j++] : ev[i++];
	while (i < mid)
		tmp[k++] = ev[i++];
	while (j < n)
		tmp[k++] = ev[j++];
	memcpy(ev, tmp, n * sizeof(*ev));
}

static void
sort_if_needed(struct sim_trace *tr)
{
	struct sim_event *tmp;

	for (size_t i = 1; i < tr->nevents; i++) {
		if (tr->events[i].t_ms < tr->events[i - 1].t_ms) {
			tmp = xcalloc(tr->nevents, sizeof(*tmp));
			merge_sort(tr->events, tmp, tr->nevents);
			free(tmp);
			return;
		}
	}
}

int
sim_trace_parse(struct sim_trace *tr, const void *data, size_t len,
    const char *name, char *err, size_t errlen)
{
	struct rbuf	 in, line;
	size_t		 lineno = 0;

	memset(tr, 0, sizeof(*tr));
	hash_init(&tr->by_name, &name_ops, 1024);
	rbuf_init(&in, data, len);
	while (next_line(&in, &line) == 0) {
		lineno++;
		if (line.len == 0)
			continue;
		if (lineno == 1 && line.len >= 7 &&
		    memcmp(line.data, "time_s,", 7) == 0)
			continue;	/* the header */
		if (parse_line(tr, &line, name, lineno, err, errlen) == -1) {
			sim_trace_free(tr);
			return -1;
		}
	}
	sort_if_needed(tr);
	return 0;
}

int
sim_trace_read_file(struct sim_trace *tr, const char *path, char *err,
    size_t errlen)
{
	FILE	*f;
	char	*data = NULL;
	size_t	 len = 0, cap = 0, n;
	int	 rc;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	do {
		if (cap - len < 65536) {
			cap = cap == 0 ? 1 << 20 : cap * 2;
			data = xrealloc(data, cap);
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	rc = ferror(f) ? -1 : 0;
	fclose(f);
	if (rc == -1) {
		snprintf(err, errlen, "%s: read error", path);
		free(data);
		return -1;
	}
	rc = sim_trace_parse(tr, data, len, path, err, errlen);
	free(data);
	return rc;
}

void
sim_trace_free(struct sim_trace *tr)
{
	struct hash_iter it;
	struct hash_node *n;

	HASH_FOREACH(n, &it, &tr->by_name)
		free(hash_entry(n, struct sim_name, node));
	hash_free(&tr->by_name);
	free(tr->names);
	free(tr->events);
	free(tr->vnis);
	memset(tr, 0, sizeof(*tr));
}
