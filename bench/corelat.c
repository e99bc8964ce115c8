/*
 * corelat: how long a cache line takes to go from one CPU to another and
 * back, the cost under every hand-off between threads on different cores.
 *
 * usage: corelat [ROUND_TRIPS]
 *
 * Two threads, pinned to the first and the last CPU, bounce one flag.
 * Prints "corelat_ns=N", the mean round trip.  On a virtual machine it
 * moves when the host places the virtual CPUs elsewhere; the benchmark
 * harness records it with each snow-rt run, whose actors are handed from
 * thread to thread where Go's and Erlang's one-worker runs stay on one.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static _Atomic int flag __attribute__((aligned(64)));
static long trips = 200000;

static void
pin(long cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET((int)cpu, &set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *
echo(void *arg)
{
	long i;

	pin((long)(intptr_t)arg);
	for (i = 0; i < trips; i++) {
		while (atomic_load_explicit(&flag, memory_order_acquire) != 1)
			;
		atomic_store_explicit(&flag, 0, memory_order_release);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN), i;
	struct timespec a, b;
	pthread_t t;

	if (argc > 1 && (trips = strtol(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: %s [ROUND_TRIPS]\n", argv[0]);
		return 2;
	}
	if (ncpu < 2) {
		printf("corelat_ns=0\n");	/* one CPU: nothing to cross */
		return 0;
	}
	pin(0);
	if (pthread_create(&t, NULL, echo, (void *)(intptr_t)(ncpu - 1)) != 0) {
		perror("corelat: pthread_create");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < trips; i++) {
		atomic_store_explicit(&flag, 1, memory_order_release);
		while (atomic_load_explicit(&flag, memory_order_acquire) != 0)
			;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	pthread_join(t, NULL);
	printf("corelat_ns=%.0f\n", ((double)(b.tv_sec - a.tv_sec) * 1e9 +
	    (double)(b.tv_nsec - a.tv_nsec)) / (double)trips);
	return 0;
}
