/*
 * A forked child for tests of what kills or hangs a process: shared by
 * check_hardening.c and check_process_misuse.c.  Header-only, as
 * test_env.h.
 */
#ifndef SNOW_TESTS_RUN_CHILD_H
#define SNOW_TESTS_RUN_CHILD_H

#include <check.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Run fn in a forked child with stderr captured into err and an alarm of
 * alarm_s seconds (a hang then ends by SIGALRM; 0: none); returns its wait status.
 */
static inline int
run_child(void (*fn)(void), unsigned alarm_s, char *err, size_t errlen)
{
	int pipefd[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(pipefd), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pipefd[0]);
		dup2(pipefd[1], STDERR_FILENO);
		alarm(alarm_s);
		fn();
		_exit(0);
	}
	close(pipefd[1]);
	while (got + 1 < errlen &&
	    (n = read(pipefd[0], err + got, errlen - 1 - got)) > 0)
		got += (size_t)n;
	err[got] = '\0';
	close(pipefd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

#endif /* SNOW_TESTS_RUN_CHILD_H */
