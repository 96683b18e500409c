/*
 * Allocation labels: what an allocation is for ("job=llama-70b"), in a
 * bounded set that has one canonical text.
 *
 * How this works: a label set is at most IPAM_LABELS_MAX pairs; a key is
 * 1..IPAM_LABEL_KEY_MAX letters, digits, '.', '_', '/' or '-' (the
 * Kubernetes label key alphabet), a value 0..IPAM_LABEL_VALUE_MAX of the
 * same without '/' plus ':' and '@' (a DNS name fits: dns-name is a
 * label), and the whole text at most IPAM_LABELS_TEXT_MAX bytes.
 * Neither holds ',' nor '=', so the canonical text, the pairs sorted by
 * key and written "key=value" joined by ",", can be split back without
 * escapes; it is what the store keeps, what the audit record covers,
 * and what two requests compare.
 */
#include "ipam/ipam_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static bool
label_key_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_' ||
	    c == '/' || c == '-';
}

static bool
label_value_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_' ||
	    c == '-' || c == ':' || c == '@';
}

static bool
span_ok(const char *s, size_t len, bool (*ok)(char))
{
	for (size_t i = 0; i < len; i++)
		if (!ok(s[i]))
			return false;
	return true;
}

int
ipam_labels_add(struct ipam_labels *ls, const char *key, const char *value,
    char *err, size_t errlen)
{
	size_t klen = strlen(key), vlen = strlen(value);

	if (klen == 0 || klen > IPAM_LABEL_KEY_MAX ||
	    !span_ok(key, klen, label_key_char)) {
		snprintf(err, errlen, "label key '%.64s' must be 1 to %d "
		    "letters, digits, '.', '_', '/' or '-'", key,
		    IPAM_LABEL_KEY_MAX);
		return -1;
	}
	if (vlen > IPAM_LABEL_VALUE_MAX ||
	    !span_ok(value, vlen, label_value_char)) {
		snprintf(err, errlen, "label %s: the value must be at most %d "
		    "letters, digits, '.', '_', '-', ':' or '@'", key,
		    IPAM_LABEL_VALUE_MAX);
		return -1;
	}
	for (size_t i = 0; i < ls->n; i++) {
		if (strcmp(ls->l[i].key, key) == 0) {
			snprintf(err, errlen, "label %s given twice", key);
			return -1;
		}
	}
	if (ls->n == IPAM_LABELS_MAX) {
		snprintf(err, errlen, "more than %d labels", IPAM_LABELS_MAX);
		return -1;
	}
	if (ls->text + klen + vlen + 2 > IPAM_LABELS_TEXT_MAX + 1) {
		snprintf(err, errlen, "labels longer than %d bytes in all "
		    "(as key=value,...)", IPAM_LABELS_TEXT_MAX);
		return -1;
	}
	ls->text += klen + vlen + 2;
	memcpy(ls->l[ls->n].key, key, klen + 1);
	memcpy(ls->l[ls->n].value, value, vlen + 1);
	ls->n++;
	return 0;
}

static int
label_cmp(const void *a, const void *b)
{
	const struct ipam_label *x = a, *y = b;

	return strcmp(x->key, y->key);
}

/* The bounds make the text fit IPAM_LABELS_TEXT_MAX; sorting in place
 * is what makes it canonical. */
void
ipam_labels_format(struct ipam_labels *ls, char *out, size_t len)
{
	size_t off = 0;

	qsort(ls->l, ls->n, sizeof(ls->l[0]), label_cmp);
	out[0] = '\0';
	for (size_t i = 0; i < ls->n && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%s=%s",
		    i > 0 ? "," : "", ls->l[i].key, ls->l[i].value);
}

int
ipam_labels_parse(const char *text, struct ipam_labels *ls)
{
	char err[128], key[IPAM_LABEL_KEY_MAX + 1];
	char value[IPAM_LABEL_VALUE_MAX + 1];
	const char *p = text;

	memset(ls, 0, sizeof(*ls));
	if (text == NULL || text[0] == '\0')
		return 0;
	for (;;) {
		size_t pair = strcspn(p, ","), klen = strcspn(p, "=,");

		if (klen >= pair || klen > IPAM_LABEL_KEY_MAX ||
		    pair - klen - 1 > IPAM_LABEL_VALUE_MAX)
			goto bad;
		memcpy(key, p, klen);
		key[klen] = '\0';
		memcpy(value, p + klen + 1, pair - klen - 1);
		value[pair - klen - 1] = '\0';
		if (ipam_labels_add(ls, key, value, err, sizeof(err)) == -1)
			goto bad;
		if (p[pair] == '\0')
			return 0;
		p += pair + 1;
	}
bad:
	memset(ls, 0, sizeof(*ls));
	errno = EINVAL;
	return -1;
}

/* Valid and already in canonical form (what the allocator accepts). */
bool
ipam_labels_canonical(const char *text)
{
	struct ipam_labels ls;
	char again[IPAM_LABELS_TEXT_MAX + 1];

	if (text == NULL)
		return true;
	if (strlen(text) > IPAM_LABELS_TEXT_MAX ||
	    ipam_labels_parse(text, &ls) == -1)
		return false;
	ipam_labels_format(&ls, again, sizeof(again));
	return strcmp(again, text) == 0;
}

const char *
ipam_label_get(const char *labels, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *p = labels;

	if (labels == NULL || klen == 0)
		return NULL;
	while (*p != '\0') {
		size_t pair = strcspn(p, ",");

		if (pair > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == '=') {
			size_t vlen = pair - klen - 1;

			if (vlen >= len)
				return NULL;
			memcpy(buf, p + klen + 1, vlen);
			buf[vlen] = '\0';
			return buf;
		}
		p += pair;
		if (*p == ',')
			p++;
	}
	return NULL;
}

bool
ipam_labels_match(const char *labels, const char *key, const char *value)
{
	char buf[IPAM_LABEL_VALUE_MAX + 1];
	const char *v = ipam_label_get(labels, key, buf, sizeof(buf));

	return v != NULL && (value == NULL || strcmp(v, value) == 0);
}

/* Queries for the shadow inventory and the API */

int
ipam_foreach_label(const struct ipam *ipam, const char *pool, const char *key,
    const char *value, int (*cb)(const struct ipam_alloc *, void *),
    void *arg)
{
	const struct ipam_pool *p;
	const struct alloc_node *an;
	int rv;

	TAILQ_FOREACH(p, &ipam->pools, entry) {
		if (pool != NULL && strcmp(p->name, pool) != 0)
			continue;
		TAILQ_FOREACH(an, &p->allocs, link) {
			if (!ipam_labels_match(an->a.labels, key, value))
				continue;
			if ((rv = cb(&an->a, arg)) != 0)
				return rv;
		}
	}
	return 0;
}

struct label_group {
	char		 value[IPAM_LABEL_VALUE_MAX + 1];
	size_t		 count;
};

/* Distinct values found so far, kept sorted: a binary search finds a
 * value or where it goes. */
static void
group_count(struct label_group **g, size_t *n, size_t *cap, const char *value)
{
	size_t lo = 0, hi = *n;
	int c;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((c = strcmp(value, (*g)[mid].value)) == 0) {
			(*g)[mid].count++;
			return;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (*n == *cap) {	/* doubling: n distinct values cost O(n) copies */
		*cap = *cap ? *cap * 2 : 16;
		*g = xrealloc(*g, *cap * sizeof(**g));
	}
	memmove(&(*g)[lo + 1], &(*g)[lo], (*n - lo) * sizeof(**g));
	strlcpy_s((*g)[lo].value, value, sizeof((*g)[lo].value));
	(*g)[lo].count = 1;
	(*n)++;
}

int
ipam_label_groups(const struct ipam *ipam, const char *pool, const char *key,
    int (*cb)(const char *value, size_t count, void *), void *arg)
{
	char buf[IPAM_LABEL_VALUE_MAX + 1];
	struct label_group *g = NULL;
	const struct ipam_pool *p;
	const struct alloc_node *an;
	size_t n = 0, cap = 0;
	int rv = 0;

	TAILQ_FOREACH(p, &ipam->pools, entry) {
		if (pool != NULL && strcmp(p->name, pool) != 0)
			continue;
		TAILQ_FOREACH(an, &p->allocs, link)
			if (ipam_label_get(an->a.labels, key, buf,
			    sizeof(buf)) != NULL)
				group_count(&g, &n, &cap, buf);
	}
	for (size_t i = 0; i < n && rv == 0; i++)
		rv = cb(g[i].value, g[i].count, arg);
	free(g);
	return rv;
}
