/* The public ABI: the symbols libsbx exports are exactly those the version
 * script lists and the public headers declare, and the headers compile on
 * their own as strict C99. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#define MAXSYM 256

struct set {
	int n;
	char name[MAXSYM][64];
};

static void add(struct set *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->name[i], name) == 0)
			return;
	if (s->n < MAXSYM)
		snprintf(s->name[s->n++], 64, "%.63s", name);
}

static int has(const struct set *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->name[i], name) == 0)
			return 1;
	return 0;
}

/* Each output line of cmd that is a symbol name goes into s. */
static int collect(const char *cmd, struct set *s)
{
	char line[512];
	FILE *f = popen(cmd, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (strncmp(line, "sbx_", 4) == 0)
			add(s, line);
	}
	return pclose(f) == 0 ? 0 : -1;
}

static int subset(const struct set *a, const struct set *b, const char *what)
{
	int good = 1;

	for (int i = 0; i < a->n; i++)
		if (!has(b, a->name[i])) {
			diag("  %s: %s", what, a->name[i]);
			good = 0;
		}
	return good;
}

int main(void)
{
	static struct set lib, map, hdr;
	char cmd[8192];
	const char *b = tap_build_dir(), *s = tap_source_dir();
	int r;

	tap_start();
	snprintf(cmd, sizeof(cmd),
		 "nm -D --defined-only '%s/libsbx.so' | awk '{ sub(/@.*/, \"\", $3); print $3 }'", b);
	r = collect(cmd, &lib);
	ok(r == 0 && lib.n > 0, "nm lists %d exported sbx_ symbols", lib.n);
	snprintf(cmd, sizeof(cmd),
		 "sed -n 's/^[[:space:]]*\\(sbx_[a-z0-9_]*\\);.*/\\1/p' '%s/libsbx.map'", s);
	r = collect(cmd, &map);
	ok(r == 0 && map.n > 0, "libsbx.map lists %d symbols", map.n);
	/* Function declarations: a name followed by '(' at the start of a
	 * declaration line, after its return type. */
	snprintf(cmd, sizeof(cmd),
		 "cat '%s'/include/sbx/*.h | grep -v '^[[:space:]]*[*/]' | "
		 "grep -o '[ *]sbx_[a-z0-9_]*(' | tr -d ' *(' | sort -u", s);
	r = collect(cmd, &hdr);
	ok(r == 0 && hdr.n > 0, "headers declare %d sbx_ functions", hdr.n);
	ok(subset(&lib, &map, "exported but not in libsbx.map"), "every exported symbol is in the map");
	ok(subset(&map, &lib, "in libsbx.map but not exported"), "every mapped symbol is exported");
	ok(subset(&hdr, &lib, "declared but not exported"), "every declared function is exported");
	ok(subset(&lib, &hdr, "exported but not declared"), "nothing exported that no header declares");
	snprintf(cmd, sizeof(cmd),
		 "cc -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -I'%s/include' -x c - "
		 "<<'X'\n#include <sbx.h>\nint main(void) { return 0; }\nX", s);
	ok(system(cmd) == 0, "include/sbx.h compiles alone with -std=c99 -pedantic -Werror");
	for (const char *h = "proto policy broker client confine"; *h;) {
		char one[32];
		int n = (int)strcspn(h, " ");

		snprintf(one, sizeof(one), "%.*s", n, h);
		snprintf(cmd, sizeof(cmd),
			 "cc -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -I'%s/include' -x c - "
			 "<<'X'\n#include <sbx/%s.h>\nint main(void) { return 0; }\nX", s, one);
		ok(system(cmd) == 0, "sbx/%s.h is self-contained", one);
		h += n;
		while (*h == ' ')
			h++;
	}
	return tap_done();
}
