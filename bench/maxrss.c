/*
 * maxrss: run a command and report its peak resident set.
 *
 * usage: maxrss OUTFILE command [args...]
 *
 * The command's stdout and stderr pass through; its peak RSS in KiB is
 * written to OUTFILE, and maxrss exits with the command's status.  The
 * benchmark harness uses it so that every system is measured the same way
 * (wait4's ru_maxrss), without depending on GNU time being installed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct rusage ru;
	FILE *out;
	pid_t pid;
	int status;

	if (argc < 3) {
		fprintf(stderr, "usage: %s OUTFILE command [args...]\n", argv[0]);
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("maxrss: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "maxrss: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR) {
			perror("maxrss: wait4");
			return 1;
		}
	out = fopen(argv[1], "w");
	if (out == NULL || fprintf(out, "%ld\n", ru.ru_maxrss) < 0 ||
	    fclose(out) != 0) {
		perror(argv[1]);
		return 1;
	}
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "maxrss: %s killed by signal %d\n", argv[2],
		    WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}
