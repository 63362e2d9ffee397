/* sandbox-run: names without a name service. A privileged process loads no
 * NSS module (glibc's getpwnam/getaddrinfo may dlopen any library
 * nsswitch.conf names, and a static sandbox-run could not load them at all):
 *   - users come from /etc/passwd alone (fgetpwent_r), or are numbers;
 *   - hosts are numeric addresses or "localhost" (127.0.0.1, then ::1).
 * getaddrinfo/freeaddrinfo are also replaced for the library code linked
 * into sandbox-run (policy-connect.c, for --connect and policy files): the
 * executable is linked with -Wl,--wrap=getaddrinfo,--wrap=freeaddrinfo, so
 * static and dynamic builds behave alike, and libsbx.so keeps glibc's. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "privileged/sandbox-run.h"

/* The last host refused, for the hint after a --connect or --policy error
 * (the library only sees "not found"). */
static char refused[64];

const char *run_refused_host(void)
{
	return refused[0] ? refused : NULL;
}

static void note_refused(const char *host)
{
	snprintf(refused, sizeof(refused), "%s", host);
}

static bool parse_id(const char *s, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	/* (uid_t)-1 means "unchanged" to setresuid: never a user. */
	return !errno && !*end && *v < 0xffffffffUL;
}

/* Find an /etc/passwd entry by name (name != NULL) or by uid. Returns 1
 * found (*gid set), 0 not there, -errno. */
static int passwd_find(const char *name, uid_t uid, uid_t *ret_uid, gid_t *ret_gid)
{
	size_t len = 1024;
	char *buf = NULL;
	struct passwd pw, *res;
	FILE *f = fopen("/etc/passwd", "re");
	int r = 0, e;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	for (;;) {
		if (!buf && !(buf = malloc(len))) {
			r = -ENOMEM;
			break;
		}
		e = fgetpwent_r(f, &pw, buf, len, &res);
		if (e == ERANGE && len < (size_t)1024 * 1024) {
			/* glibc rewinds to the start of the entry: retry it. */
			free(buf);
			buf = NULL;
			len *= 4;
			continue;
		}
		if (e == ENOENT)
			break;                  /* end of file */
		if (e) {
			r = -e;
			break;
		}
		if (name ? !strcmp(pw.pw_name, name) : pw.pw_uid == uid) {
			*ret_uid = pw.pw_uid;
			*ret_gid = pw.pw_gid;
			r = 1;
			break;
		}
	}
	free(buf);
	fclose(f);
	return r;
}

int run_lookup_user(const char *user, uid_t *ret_uid, gid_t *ret_gid)
{
	unsigned long id;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int r;

	/* A name first (as getpwnam did), then a number. */
	r = user[0] ? passwd_find(user, 0, &uid, &gid) : 0;
	if (r == 0 && parse_id(user, &id)) {
		r = passwd_find(NULL, (uid_t)id, &uid, &gid);
		if (r == 0) {
			/* No entry: the group of the same number. */
			uid = (uid_t)id;
			gid = (gid_t)id;
			r = 1;
		}
	}
	if (r < 0)
		return run_errx("--user: /etc/passwd: %s", strerror(-r)), -1;
	if (r == 0)
		return run_errx("--user: unknown user '%s': not in /etc/passwd (sandbox-run "
				"uses no other user database): give a numeric uid", user), -1;
	if (uid == (uid_t)-1 || gid == (gid_t)-1)
		return run_errx("--user: '%s': uid or gid -1 is not an id", user), -1;
	*ret_uid = uid;
	*ret_gid = gid;
	return 0;
}

/* One address: family AF_INET or AF_INET6, port in host order. */
static void put_addr(struct run_addr *a, int family, const void *ip, unsigned port,
		     unsigned scope)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)port);
		memcpy(&in->sin_addr, ip, sizeof(in->sin_addr));
		a->len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)port);
		in6->sin6_scope_id = scope;
		memcpy(&in6->sin6_addr, ip, sizeof(in6->sin6_addr));
		a->len = sizeof(*in6);
	}
}

int run_resolve(const char *host, unsigned port, int family, bool numeric_only,
		struct run_addr ret[2])
{
	char h6[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
	unsigned char ip[sizeof(struct in6_addr)];
	const char *pct;
	unsigned scope = 0;
	int n = 0;

	if (!host || !host[0]) {
		/* The wildcard, as getaddrinfo(NULL, AI_PASSIVE) gave it. */
		if (family != AF_INET6) {
			struct in_addr any = { htonl(INADDR_ANY) };

			put_addr(&ret[n++], AF_INET, &any, port, 0);
		}
		if (family != AF_INET)
			put_addr(&ret[n++], AF_INET6, &in6addr_any, port, 0);
		return n;
	}
	if (family != AF_INET6 && inet_pton(AF_INET, host, ip) == 1) {
		put_addr(&ret[0], AF_INET, ip, port, 0);
		return 1;
	}
	/* IPv6, with an optional %scope (an interface name or index). */
	pct = strchr(host, '%');
	if (family != AF_INET && strlen(host) < sizeof(h6)) {
		strcpy(h6, host);
		if (pct) {
			unsigned long v;
			char *end;

			h6[pct - host] = '\0';
			errno = 0;
			v = strtoul(pct + 1, &end, 10);
			if (pct[1] >= '0' && pct[1] <= '9' && !errno && !*end && v <= 0xffffffffUL)
				scope = (unsigned)v;
			else
				scope = if_nametoindex(pct + 1);
		}
		if (inet_pton(AF_INET6, h6, ip) == 1 && (!pct || scope)) {
			put_addr(&ret[0], AF_INET6, ip, port, scope);
			return 1;
		}
	}
	if (!numeric_only && !strcasecmp(host, "localhost")) {
		if (family != AF_INET6) {
			struct in_addr lo = { htonl(INADDR_LOOPBACK) };

			put_addr(&ret[n++], AF_INET, &lo, port, 0);
		}
		if (family != AF_INET)
			put_addr(&ret[n++], AF_INET6, &in6addr_loopback, port, 0);
		return n;
	}
	if (!numeric_only)
		note_refused(host);
	return 0;
}

/* Only what sbx_policy_add_connect asks (policy-connect.c): a numeric
 * service, SOCK_STREAM, AI_NUMERICHOST and a family honoured. */
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res);
void __wrap_freeaddrinfo(struct addrinfo *ai);

int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		       struct addrinfo **res)
{
	struct addrinfo *head = NULL, **tail = &head;
	struct run_addr a[2];
	unsigned long port = 0;
	int family = hints ? hints->ai_family : AF_UNSPEC;
	int flags = hints ? hints->ai_flags : 0;
	int n;

	if (!node && !service)
		return EAI_NONAME;
	if (service) {
		char *end;

		errno = 0;
		port = strtoul(service, &end, 10);
		if (!*service || *end || errno || port > 65535)
			return EAI_SERVICE;     /* no /etc/services either */
	}
	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
		return EAI_FAMILY;
	if (!node && !(flags & AI_PASSIVE)) {
		node = "localhost";             /* the loopback, as glibc's */
		flags &= ~AI_NUMERICHOST;
	}
	n = run_resolve(node, (unsigned)port, family, flags & AI_NUMERICHOST, a);
	if (n == 0)
		return EAI_NONAME;
	for (int i = 0; i < n; i++) {
		/* One block: the addrinfo, then its address. */
		struct addrinfo *ai = calloc(1, sizeof(*ai) + sizeof(a[i].ss));

		if (!ai) {
			__wrap_freeaddrinfo(head);
			return EAI_MEMORY;
		}
		ai->ai_family = a[i].ss.ss_family;
		ai->ai_socktype = hints && hints->ai_socktype ? hints->ai_socktype : SOCK_STREAM;
		ai->ai_protocol = hints ? hints->ai_protocol : 0;
		ai->ai_addrlen = a[i].len;
		ai->ai_addr = (struct sockaddr *)(ai + 1);
		memcpy(ai->ai_addr, &a[i].ss, a[i].len);
		*tail = ai;
		tail = &ai->ai_next;
	}
	*res = head;
	return 0;
}

void __wrap_freeaddrinfo(struct addrinfo *ai)
{
	while (ai) {
		struct addrinfo *next = ai->ai_next;

		free(ai);
		ai = next;
	}
}
