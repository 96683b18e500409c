/*
 * Addresses and the small BGP identifiers every part formats and parses:
 * IPv4/IPv6 addresses and prefixes, MAC addresses, route distinguishers
 * (RFC 4364 §4.2) and route targets (RFC 4360 §4, RFC 5668).
 *
 * Parsers return 0 on success and -1 on malformed text; formatters write
 * into a caller buffer (sized by the *_STRLEN constants) and return it.
 */
#ifndef COMMON_ADDR_H
#define COMMON_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define IPADDR_STRLEN	46	/* INET6_ADDRSTRLEN */
#define PREFIX_STRLEN	50
#define MAC_STRLEN	18
#define RD_STRLEN	32
#define RT_STRLEN	32

struct ipaddr {
	uint8_t		 af;		/* AF_INET, AF_INET6, or 0 = none */
	union {
		struct in_addr	 v4;
		struct in6_addr	 v6;
		uint8_t		 b[16];
	} u;
};

struct prefix {
	struct ipaddr	 addr;
	uint8_t		 len;
};

struct macaddr {
	uint8_t		 b[6];
};

/* Route distinguisher and route target, kept in wire form. */
struct rd {
	uint8_t		 b[8];
};

struct rt {
	uint8_t		 b[8];		/* the extended community */
};

int	 ipaddr_parse(const char *, struct ipaddr *);
const char *ipaddr_fmt(const struct ipaddr *, char *, size_t);
int	 ipaddr_cmp(const struct ipaddr *, const struct ipaddr *);
bool	 ipaddr_is_set(const struct ipaddr *);
size_t	 ipaddr_len(const struct ipaddr *);	/* 4, 16 or 0 */
void	 ipaddr_from_v4(struct ipaddr *, uint32_t host_order);
uint32_t ipaddr_v4_host(const struct ipaddr *);
/* Fill a sockaddr_storage for connect/bind; returns its length. */
int	 ipaddr_to_sockaddr(const struct ipaddr *, uint16_t port, void *ss);
int	 ipaddr_from_sockaddr(const void *sa, struct ipaddr *, uint16_t *port);

/* "a.b.c.d/len" or "x::/len"; host bits must be zero unless loose. */
int	 prefix_parse(const char *, struct prefix *, bool loose);
const char *prefix_fmt(const struct prefix *, char *, size_t);
int	 prefix_cmp(const struct prefix *, const struct prefix *);
void	 prefix_mask(struct prefix *);
/* ip lies in pfx (pfx masked); two masked prefixes share an address. */
bool	 prefix_contains(const struct prefix *, const struct ipaddr *);
bool	 prefix_overlap(const struct prefix *, const struct prefix *);

int	 mac_parse(const char *, struct macaddr *);
const char *mac_fmt(const struct macaddr *, char *, size_t);
int	 mac_cmp(const struct macaddr *, const struct macaddr *);
bool	 mac_is_zero(const struct macaddr *);

/* "ASN:NN" (2-byte ASN: type 0; 4-byte ASN: type 2) or "A.B.C.D:NN". */
int	 rd_parse(const char *, struct rd *);
const char *rd_fmt(const struct rd *, char *, size_t);
int	 rd_cmp(const struct rd *, const struct rd *);
/* RD type 1 (IPv4:index), the form FRR derives: router-id:index. */
void	 rd_make_ipv4(struct rd *, uint32_t ipv4_host, uint16_t index);

/* Route target extended community: same text forms as rd_parse. */
int	 rt_parse(const char *, struct rt *);
const char *rt_fmt(const struct rt *, char *, size_t);
int	 rt_cmp(const struct rt *, const struct rt *);
/* 2-byte-AS form (type 0x00, subtype 0x02): AS:value. */
void	 rt_make_as2(struct rt *, uint16_t as, uint32_t value);

/* Strict decimal parse of an unsigned integer in [min, max]. */
int	 parse_uint(const char *, uint64_t min, uint64_t max, uint64_t *);

#endif
