/*
 * Connect targets: "tcp:HOST:PORT" and "unix:PATH", resolved when added (the
 * broker never does name resolution on a child's behalf), connected on
 * request with a bounded wait.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "policy-impl.h"
#include "proto/export.h"

/* How long sbx_policy_connect may wait for a TCP handshake. */
#define CONNECT_TIMEOUT_MS 3000

static int parse_port(const char *s, unsigned short *ret)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*ret = (unsigned short)v;
	return 0;
}

static int parse_unix(const char *path, struct policy_connect *c)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&c->addr[0].sa;
	size_t len = strlen(path);

	/* "@name" is an abstract socket; a filesystem path must be absolute
	 * (the broker's working directory means nothing to the policy). */
	if (len < 2 || len >= sizeof(sun->sun_path) || (path[0] != '/' && path[0] != '@'))
		return -EINVAL;
	memset(&c->addr[0], 0, sizeof(c->addr[0]));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len);
	if (path[0] == '@') {
		sun->sun_path[0] = '\0';
		c->addr[0].len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else {
		c->addr[0].len = (socklen_t)sizeof(*sun);
	}
	c->naddr = 1;
	return 0;
}

static int parse_tcp(const char *spec, struct policy_connect *c)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char host[256];
	const char *colon, *h = spec;
	unsigned short port;
	size_t hlen;
	int r;

	if (*spec == '[') {
		const char *close_br = strchr(spec, ']');

		if (!close_br || close_br[1] != ':')
			return -EINVAL;
		h = spec + 1;
		hlen = (size_t)(close_br - h);
		colon = close_br + 1;
		hints.ai_family = AF_INET6;
		hints.ai_flags |= AI_NUMERICHOST;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || memchr(spec, ':', (size_t)(colon - spec)))
			return -EINVAL; /* an IPv6 address needs brackets */
		hlen = (size_t)(colon - spec);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	r = parse_port(colon + 1, &port);
	if (r < 0)
		return r;
	r = getaddrinfo(host, colon + 1, &hints, &res);
	if (r == EAI_MEMORY)
		return -ENOMEM;
	if (r != 0)
		return (hints.ai_flags & AI_NUMERICHOST) ? -EINVAL : -ENOENT;
	c->naddr = 0;
	for (struct addrinfo *a = res; a && c->naddr < POLICY_CONNECT_ADDRS; a = a->ai_next) {
		if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
		    a->ai_addrlen > sizeof(c->addr[0].sa))
			continue;
		memset(&c->addr[c->naddr], 0, sizeof(c->addr[0]));
		memcpy(&c->addr[c->naddr].sa, a->ai_addr, a->ai_addrlen);
		c->addr[c->naddr].len = a->ai_addrlen;
		c->naddr++;
	}
	freeaddrinfo(res);
	return c->naddr ? 0 : -ENOENT;
}

int policy_parse_connect(const char *addr, struct policy_connect *c)
{
	if (!addr || !c)
		return -EINVAL;
	if (strncmp(addr, "unix:", 5) == 0)
		return parse_unix(addr + 5, c);
	if (strncmp(addr, "tcp:", 4) == 0)
		return parse_tcp(addr + 4, c);
	return -EINVAL;
}

const struct policy_connect *policy_find_connect(const struct sbx_policy *p,
						 const char *name)
{
	for (size_t i = 0; i < p->nconns; i++)
		if (strcmp(p->conns[i].name, name) == 0)
			return &p->conns[i];
	return NULL;
}

SBX_EXPORT int sbx_policy_add_connect(struct sbx_policy *p, const char *name,
				      const char *addr)
{
	struct policy_connect c;
	int r;

	if (!p || !policy_name_valid(name) || !addr)
		return -EINVAL;
	if (policy_find_connect(p, name))
		return -EEXIST;
	memset(&c, 0, sizeof(c));
	r = policy_parse_connect(addr, &c);
	if (r < 0)
		return r;
	r = policy_reserve((void **)&p->conns, &p->cconns, p->nconns, 1, sizeof(*p->conns));
	if (r < 0)
		return r;
	strcpy(c.name, name);
	p->conns[p->nconns++] = c;
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for a non-blocking connect to finish, at most until deadline. */
static int wait_connected(int fd, long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0, n;

	for (;;) {
		long left = deadline - now_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			break;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

static int connect_one(const struct policy_addr *a, long deadline)
{
	int fd, r = 0, fl;

	fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&a->sa, a->len) < 0) {
		if (errno == EINPROGRESS)
			r = wait_connected(fd, deadline);
		else
			r = -errno; /* a full unix backlog says EAGAIN: passed on */
	}
	if (r == 0) {
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
			r = -errno;
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

SBX_EXPORT int sbx_policy_connect(const struct sbx_policy *p, const char *name)
{
	const struct policy_connect *c;
	long deadline;
	int r = -ECONNREFUSED;

	if (!p || !policy_name_valid(name))
		return -EINVAL;
	c = policy_find_connect(p, name);
	if (!c)
		return -ENOENT;
	deadline = now_ms() + CONNECT_TIMEOUT_MS;
	for (unsigned i = 0; i < c->naddr; i++) {
		r = connect_one(&c->addr[i], deadline);
		if (r >= 0 || r == -ETIMEDOUT)
			break;
	}
	return r;
}
