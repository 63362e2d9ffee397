/* Built with -static (no dynamic loader, no libc opens of its own): opens
 * each argument and prints "<path>: <content>" or "<path>: <strerror>".
 * Used by notify-exec.t to show a static binary is held to the policy. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int i, bad = 0;

	for (i = 1; i < argc; i++) {
		char buf[128];
		ssize_t n;
		int fd = open(argv[i], O_RDONLY);

		if (fd < 0) {
			printf("%s: %s\n", argv[i], strerror(errno));
			bad = 1;
			continue;
		}
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		printf("%s: %s\n", argv[i], buf);
		close(fd);
	}
	return bad;
}
