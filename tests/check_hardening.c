/*
 * Faults and bad input: stack overflows, exhausted memory, workers that
 * cannot start, arguments at and past their limits.  Each fault is
 * injected in a forked child, so the test outlives what it provokes.
 */
#include "config.h"

#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <snow/runtime.h>

#include "run_child.h"
#include "run_suite.h"
#include "test_env.h"

#define TIMEOUT 120

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif

/* ---- stack overflow ---- */

static _Atomic uint64_t overflow_pid;

__attribute__((noinline)) static unsigned
recurse(unsigned depth)
{
	volatile unsigned char frame[512];

	frame[0] = (unsigned char)depth;
	frame[sizeof(frame) - 1] = (unsigned char)depth;
	if (depth == UINT32_MAX)	/* never: 2 TiB of stack */
		return 0;
	/* Not a tail call: the frame is still needed after it. */
	return recurse(depth + 1) + frame[0] + frame[sizeof(frame) - 1];
}

static void
overflowing_actor(const void *arg)
{
	(void)arg;
	atomic_store(&overflow_pid, snow_actor_self());
	fprintf(stderr, "overflowing pid %llu\n",
	    (unsigned long long)snow_actor_self());
	recurse(0);
}

static void
overflow_child(void)
{
	if (snow_rt_init_actor(2) != 0)
		_exit(10);
	if (snow_actor_spawn(overflowing_actor, NULL, 0, SNOW_PRIO_NORMAL) == 0)
		_exit(11);
	snow_rt_run_scheduler();
	_exit(12);		/* unreachable: the overflow aborts */
}

static void
check_overflow_report(const char *stack_size, void (*child)(void))
{
	char err[4096], want[128];
	unsigned long long pid;
	const char *line;
	int status;

	setenv("SNOW_STACK_SIZE", stack_size, 1);
	status = run_child(child, 0, err, sizeof(err));
	unsetenv("SNOW_STACK_SIZE");
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	    "child status %#x, stderr: %s", status, err);
	line = strstr(err, "overflowing pid ");
	ck_assert_msg(line != NULL && sscanf(line, "overflowing pid %llu",
	    &pid) == 1, "no pid in: %s", err);
	snprintf(want, sizeof(want),
	    "snow-rt: stack overflow in actor %llu (stack of %s bytes", pid,
	    stack_size);
	ck_assert_msg(strstr(err, want) != NULL, "expected \"%s\" in: %s",
	    want, err);
}

START_TEST(stack_overflow_is_reported_and_aborts)
{
	check_overflow_report("65536", overflow_child);
	check_overflow_report("131072", overflow_child);
}
END_TEST

/*
 * Past its first slab the pool makes fresh stacks ready a batch at a
 * time, guards and all, in one system call (stack_prep.c).  An actor
 * that overflows a stack from such a batch, after hundreds of others
 * still alive took theirs, must hit its guard just the same.
 */
static unsigned fresh_before;

static void
parked_forever(const void *arg)
{
	(void)arg;
	(void)snow_actor_receive(-1);
}

static void
overflow_after_fresh_child(void)
{
	unsigned i;

	if (snow_rt_init_actor(2) != 0)
		_exit(10);
	for (i = 0; i < fresh_before; i++)
		if (snow_actor_spawn(parked_forever, NULL, 0,
		    SNOW_PRIO_NORMAL) == 0)
			_exit(11);
	if (snow_actor_spawn(overflowing_actor, NULL, 0, SNOW_PRIO_NORMAL) == 0)
		_exit(11);
	snow_rt_run_scheduler();
	_exit(12);		/* unreachable: the overflow aborts */
}

START_TEST(overflow_of_a_stack_from_a_batch_is_reported)
{
	/* Three slabs of 256 and more, at two places in a batch of 32. */
	fresh_before = 700;
	check_overflow_report("65536", overflow_after_fresh_child);
	fresh_before = 717;
	check_overflow_report("65536", overflow_after_fresh_child);
}
END_TEST

/*
 * A frame larger than the 16 KiB of guard pages: 80 KiB, of which only
 * the lowest byte is written, lands in the stack below, past the guard,
 * unless the compiler touches the frame's pages in order on the way down
 * (-fstack-clash-protection, which this file is built with as pkg-config
 * --cflags snow-rt tells programs to be).  With it, the first touch below
 * the stack is in the guard and is reported like any overflow; without
 * it, the parked neighbour's frame is overwritten and nothing is said.
 */
#define BIG_FRAME	(80 * 1024)
#define NEIGHBOUR_WORDS	1024

static _Atomic int neighbour_parked;
static _Atomic uint64_t neighbour_pid;

static void
parked_neighbour(const void *arg)
{
	volatile uint64_t frame[NEIGHBOUR_WORDS];
	uint64_t i, changed = 0;

	(void)arg;
	/* In place: a hibernated stack would be faulted back by the stray
	 * write and take it just the same. */
	(void)snow_actor_hibernate(0);
	for (i = 0; i < NEIGHBOUR_WORDS; i++)
		frame[i] = i * 0x9e3779b97f4a7c15u;
	atomic_store(&neighbour_parked, 1);
	(void)snow_actor_receive(-1);
	for (i = 0; i < NEIGHBOUR_WORDS; i++)
		changed += frame[i] != i * 0x9e3779b97f4a7c15u;
	fprintf(stderr, "neighbour: %llu of %d words of its frame changed\n",
	    (unsigned long long)changed, NEIGHBOUR_WORDS);
}

static void
big_frame_actor(const void *arg)
{
	volatile size_t n = BIG_FRAME;	/* not a constant the compiler sees */

	(void)arg;
	while (!atomic_load(&neighbour_parked))
		snow_actor_yield();
	fprintf(stderr, "big frame pid %llu\n",
	    (unsigned long long)snow_actor_self());
	{
		volatile unsigned char frame[n];

		frame[0] = 1;		/* the lowest byte only */
		__asm__ volatile("" : : "r"(frame) : "memory");
	}
	(void)snow_actor_send(atomic_load(&neighbour_pid), "w", 1);
}

static void
big_frame_child(void)
{
	uint64_t pid;

	if (snow_rt_init_actor(2) != 0)
		_exit(10);
	pid = snow_actor_spawn(parked_neighbour, NULL, 0, SNOW_PRIO_NORMAL);
	if (pid == 0)
		_exit(11);
	atomic_store(&neighbour_pid, pid);
	if (snow_actor_spawn(big_frame_actor, NULL, 0, SNOW_PRIO_NORMAL) == 0)
		_exit(11);
	snow_rt_run_scheduler();
	_exit(12);		/* the frame went unnoticed */
}

START_TEST(frame_larger_than_the_guard_is_reported_and_aborts)
{
	char err[4096], want[128];
	unsigned long long pid;
	const char *line;
	int status;

	setenv("SNOW_STACK_SIZE", "65536", 1);
	status = run_child(big_frame_child, 0, err, sizeof(err));
	unsetenv("SNOW_STACK_SIZE");
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
	    "child status %#x (built without -fstack-clash-protection?), "
	    "stderr: %s", status, err);
	line = strstr(err, "big frame pid ");
	ck_assert_msg(line != NULL && sscanf(line, "big frame pid %llu",
	    &pid) == 1, "no pid in: %s", err);
	snprintf(want, sizeof(want),
	    "snow-rt: stack overflow in actor %llu (stack of 65536 bytes", pid);
	ck_assert_msg(strstr(err, want) != NULL, "expected \"%s\" in: %s",
	    want, err);
}
END_TEST

/* ---- who owns SIGSEGV ---- */

/*
 * The application's SIGSEGV handler.  A write to its read-only page is
 * its own fault: it makes the page writable and lets the write run
 * again.  With app_chains set it asks the runtime first, as the header
 * tells handlers installed after snow_rt_init_actor() to do.
 */
static char *app_page;
static size_t app_page_size;
static _Atomic int app_chains;
static _Atomic int app_seen;		/* faults it received */
static _Atomic int app_runtime;		/* ...that the runtime took (1) */
static _Atomic int app_own;		/* ...that were its page's */

static void
app_handler(int sig, siginfo_t *si, void *uc)
{
	const char *a = si->si_addr;
	struct sigaction dfl;

	atomic_fetch_add(&app_seen, 1);
	if (atomic_load(&app_chains) && snow_rt_handle_fault(sig, si, uc)) {
		atomic_fetch_add(&app_runtime, 1);
		return;
	}
	if (sig == SIGSEGV && a >= app_page && a < app_page + app_page_size) {
		atomic_fetch_add(&app_own, 1);
		mprotect(app_page, app_page_size, PROT_READ | PROT_WRITE);
		return;
	}
	/* Nobody's: die of it. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
}

static void
install_app_handler(int chains)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = app_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	atomic_store(&app_chains, chains);
	if (sigaction(SIGSEGV, &sa, NULL) != 0)
		_exit(40);
}

/* A read-only page of the application's, to fault on. */
static void
map_app_page(void)
{
	app_page_size = (size_t)sysconf(_SC_PAGESIZE);
	app_page = mmap(NULL, app_page_size, PROT_READ,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (app_page == MAP_FAILED)
		_exit(41);
}

static void
child_fails(int code, const char *what)
{
	fprintf(stderr, "%s (seen %d, runtime's %d, own %d)\n", what,
	    atomic_load(&app_seen), atomic_load(&app_runtime),
	    atomic_load(&app_own));
	_exit(code);
}

static int
app_handler_installed(int sig)
{
	struct sigaction cur;

	return sigaction(sig, NULL, &cur) == 0 &&
	    (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == app_handler;
}

/* The same handler as *was (SIG_DFL, or a sanitizer's own). */
static int
same_installed(int sig, const struct sigaction *was)
{
	struct sigaction cur;

	if (sigaction(sig, NULL, &cur) != 0 ||
	    (cur.sa_flags & SA_SIGINFO) != (was->sa_flags & SA_SIGINFO))
		return 0;
	return (cur.sa_flags & SA_SIGINFO) ?
	    cur.sa_sigaction == was->sa_sigaction :
	    cur.sa_handler == was->sa_handler;
}

/* An actor parked in an untimed receive, holding a local it shares. */
static _Atomic(volatile uint64_t *) parked_local;
static _Atomic uint64_t parked_saw;

static void
parker(const void *arg)
{
	volatile uint64_t local = 7;

	(void)arg;
	atomic_store(&parked_local, &local);
	(void)snow_actor_receive(-1);
	atomic_store(&parked_saw, local);
}

static uint64_t
hibernations(void)
{
	struct snow_rt_stats st;

	return snow_rt_stats(&st) == 0 ? st.hibernations : 0;
}

/*
 * Valgrind grows the main thread's stack when it is touched, but cannot
 * while it delivers a signal there: "Can't extend stack ... during signal
 * delivery".  Touch the room the handlers will need beforehand.
 */
__attribute__((noinline)) static void
take_stack_room(void)
{
	volatile unsigned char room[64 * 1024];
	size_t i;

	for (i = 0; i < sizeof(room); i += 1024)
		room[i] = 0;
}

/* Spawn a parker and wait until its stack has hibernated; its PID. */
static uint64_t
spawn_hibernated_parker(void)
{
	uint64_t pid;
	int i;

	take_stack_room();

	pid = snow_actor_spawn(parker, NULL, 0, SNOW_PRIO_NORMAL);
	if (pid == 0)
		_exit(42);
	for (i = 0; i < 6000 && (atomic_load(&parked_local) == NULL ||
	    hibernations() == 0); i++)
		usleep(5000);
	if (hibernations() == 0)
		child_fails(43, "the parker never hibernated");
	return pid;
}

static void
write_app_page(const void *arg)
{
	(void)arg;
	app_page[0] = 1;
}

/*
 * Installed before init: the runtime takes its own faults (a hibernated
 * stack touched) without bothering it, passes it the others (its page
 * written from an actor), and puts it back at shutdown.
 */
static void
handler_before_init_child(void)
{
	volatile uint64_t *local;
	struct sigaction bus;
	uint64_t pid;

	map_app_page();
	install_app_handler(0);
	if (sigaction(SIGBUS, NULL, &bus) != 0)
		_exit(44);
	if (snow_rt_init_actor(2) != 0)
		_exit(10);
	pid = spawn_hibernated_parker();
	local = atomic_load(&parked_local);
	if (*local != 7)
		child_fails(50, "the hibernated local read wrong");
	*local = 8;
	if (atomic_load(&app_seen) != 0)
		child_fails(51, "the runtime's own fault reached the handler");
	if (snow_actor_spawn(write_app_page, NULL, 0, SNOW_PRIO_NORMAL) == 0)
		_exit(11);
	if (snow_actor_send(pid, "w", 1) != 0)
		_exit(11);
	if (snow_rt_run_scheduler() != 0)
		_exit(12);
	if (atomic_load(&parked_saw) != 8)
		child_fails(52, "the write to the hibernated local was lost");
	if (atomic_load(&app_own) != 1 || app_page[0] != 1)
		child_fails(53, "the actor's fault did not reach the handler");
	if (!app_handler_installed(SIGSEGV))
		child_fails(54, "the handler is gone after shutdown");
	if (!same_installed(SIGBUS, &bus))
		child_fails(55, "SIGBUS's handler is not back after shutdown");
	_exit(0);
}

START_TEST(handler_installed_before_init_is_chained_and_put_back)
{
	char err[4096];
	int status = run_child(handler_before_init_child, 0, err, sizeof(err));

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %#x, stderr: %s", status, err);
}
END_TEST

/*
 * Installed after init, asking snow_rt_handle_fault() first: a touched
 * hibernated stack is the runtime's (1) and comes back right, the
 * handler's own page is not (0), and the handler stays at shutdown.
 */
static void
handler_after_init_child(void)
{
	volatile uint64_t *local;
	uint64_t pid;
	siginfo_t fake;

	map_app_page();
	if (snow_rt_init_actor(2) != 0)
		_exit(10);
	install_app_handler(1);
	pid = spawn_hibernated_parker();
	local = atomic_load(&parked_local);
	if (*local != 7)
		child_fails(60, "the hibernated local read wrong");
	*local = 9;
	if (atomic_load(&app_seen) < 1 || atomic_load(&app_runtime) < 1)
		child_fails(61, "the hibernated stack's fault was not the "
		    "runtime's");
	if (atomic_load(&app_own) != 0)
		child_fails(62, "the runtime's fault was handed to the "
		    "application");
	app_page[0] = 1;
	if (atomic_load(&app_own) != 1 || app_page[0] != 1)
		child_fails(63, "the application's own fault was not its own");
	memset(&fake, 0, sizeof(fake));
	if (snow_rt_handle_fault(SIGUSR1, &fake, NULL) != 0 ||
	    snow_rt_handle_fault(SIGSEGV, NULL, NULL) != 0)
		child_fails(64, "snow_rt_handle_fault took a bad call");
	if (snow_actor_send(pid, "w", 1) != 0)
		_exit(11);
	if (snow_rt_run_scheduler() != 0)
		_exit(12);
	if (atomic_load(&parked_saw) != 9)
		child_fails(65, "the write to the hibernated local was lost");
	if (!app_handler_installed(SIGSEGV))
		child_fails(66, "the handler is gone after shutdown");
	/* With the runtime down every fault is the application's. */
	mprotect(app_page, app_page_size, PROT_READ);
	app_page[0] = 2;
	if (atomic_load(&app_own) != 2 || app_page[0] != 2)
		child_fails(67, "a fault after shutdown was not the "
		    "application's");
	/* Started again, the runtime chains to it as to any handler that
	 * was there before init, and puts it back once more. */
	mprotect(app_page, app_page_size, PROT_READ);
	if (snow_rt_init_actor(2) != 0)
		_exit(10);
	if (snow_actor_spawn(write_app_page, NULL, 0, SNOW_PRIO_NORMAL) == 0)
		_exit(11);
	if (snow_rt_run_scheduler() != 0)
		_exit(12);
	if (atomic_load(&app_own) != 3 || app_page[0] != 1)
		child_fails(68, "the second runtime did not chain to it");
	if (!app_handler_installed(SIGSEGV))
		child_fails(69, "the handler is gone after the second shutdown");
	_exit(0);
}

START_TEST(handler_installed_after_init_chains_and_stays)
{
	char err[4096];
	int status = run_child(handler_after_init_child, 0, err, sizeof(err));

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %#x, stderr: %s", status, err);
}
END_TEST

/* The overflow, seen first by such a handler, is reported just the same. */
static void
overflow_under_app_handler_child(void)
{
	if (snow_rt_init_actor(2) != 0)
		_exit(10);
	install_app_handler(1);
	if (snow_actor_spawn(overflowing_actor, NULL, 0, SNOW_PRIO_NORMAL) == 0)
		_exit(11);
	snow_rt_run_scheduler();
	_exit(12);
}

START_TEST(overflow_under_a_chaining_handler_is_reported)
{
	check_overflow_report("65536", overflow_under_app_handler_child);
}
END_TEST

/* ---- memory exhaustion ---- */

/*
 * Not under ASan or TSan: they reserve terabytes of shadow memory up
 * front, so an address-space limit starves the sanitizer before the
 * runtime, and they must see every map the program makes, which rules out
 * a map that fails on cue.
 */
#ifndef SANITIZED

static _Atomic int hold;
static _Atomic long held_ran;

static void
held_actor(const void *arg)
{
	(void)arg;
	while (atomic_load(&hold))
		snow_actor_yield();
	atomic_fetch_add(&held_ran, 1);
}

/*
 * The runtime's own maps fail on cue: this executable's mmap() comes before
 * the C library's for the runtime's calls, and fails with ENOMEM while
 * maps_fail is set.  Unlike an address-space limit it starves nothing but
 * the runtime, so it works under valgrind, whose shadow memory would
 * compete for the limited space.
 */
static _Atomic int maps_fail;

void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (atomic_load(&maps_fail)) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static void
starve_by_failing_maps(void)
{
	atomic_store(&maps_fail, 1);
}

static void
feed_by_failing_maps(void)
{
	atomic_store(&maps_fail, 0);
}

/*
 * Exit codes tell the parent which promise broke: spawn never failed (20),
 * failed with the wrong errno (21), the spawned actors did not all finish
 * (22), spawning did not recover with the memory (23).
 */
static void
exhaustion_child(void (*starve)(void), void (*feed)(void))
{
	long spawned = 0, i;
	int err = 0;

	if (snow_rt_init_actor(2) != 0)
		_exit(10);
	atomic_store(&hold, 1);
	starve();
	for (i = 0; i < 1000000; i++) {
		if (snow_actor_spawn(held_actor, NULL, 0, SNOW_PRIO_NORMAL) == 0) {
			err = errno;
			break;
		}
		spawned++;
	}
	if (err == 0)
		_exit(20);
	if (err != ENOMEM)
		_exit(21);
	/* Those already spawned run to the end... */
	atomic_store(&hold, 0);
	while (atomic_load(&held_ran) < spawned)
		usleep(1000);
	/* ...and with the memory back, spawning works again. */
	feed();
	for (i = 0; i < 1000; i++)
		if (snow_actor_spawn(held_actor, NULL, 0, SNOW_PRIO_NORMAL) == 0)
			_exit(23);
	snow_rt_run_scheduler();
	if (atomic_load(&held_ran) != spawned + 1000)
		_exit(22);
	fprintf(stderr, "spawned %ld before ENOMEM\n", spawned);
	_exit(0);
}

static void
failing_maps_child(void)
{
	exhaustion_child(starve_by_failing_maps, feed_by_failing_maps);
}

static void
check_exhaustion(void (*child)(void))
{
	char err[4096];
	int status = run_child(child, 0, err, sizeof(err));

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %#x, stderr: %s", status, err);
	ck_assert_ptr_nonnull(strstr(err, "before ENOMEM"));
}

/* The runtime's maps fail, nothing else does. */
START_TEST(spawn_fails_with_enomem_when_maps_fail)
{
	check_exhaustion(failing_maps_child);
}
END_TEST

static long
proc_status_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/*
 * The process's thread count once it is back down to want, or after a
 * second (times slack()).  pthread_join() returns when the kernel clears
 * the thread's TID, a little before the thread leaves the count; under
 * qemu-user the host thread still has the emulator's own teardown to do
 * then (riscv64: one more thread when counted at once).  A thread left
 * behind stays counted.
 */
static long
threads_settled(long want)
{
	long n = proc_status_kb("Threads");
	int ms;

	for (ms = 0; n != want && ms < 1000 * slack(); ms++) {
		usleep(1000);
		n = proc_status_kb("Threads");
	}
	return n;
}

/* Whether the address-space limit now in force refuses a map past it. */
static bool
rlimit_as_holds(rlim_t limit)
{
	void *p = mmap(NULL, (size_t)limit, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return true;
	munmap(p, (size_t)limit);
	return false;
}

static struct rlimit as_before;

/* Address space for 64 MiB more, for the runtime and whatever else. */
static void
starve_by_rlimit(void)
{
	struct rlimit low;

	getrlimit(RLIMIT_AS, &as_before);
	low = as_before;
	low.rlim_cur = (rlim_t)(proc_status_kb("VmSize") + 64 * 1024) * 1024;
	if (setrlimit(RLIMIT_AS, &low) != 0)
		_exit(13);
	/* Said, not hidden: the pool's own limits end the spawns then. */
	if (!rlimit_as_holds(low.rlim_cur))
		fprintf(stderr, "RLIMIT_AS is not enforced here\n");
}

static void
feed_by_rlimit(void)
{
	setrlimit(RLIMIT_AS, &as_before);
}

static void
rlimit_child(void)
{
	exhaustion_child(starve_by_rlimit, feed_by_rlimit);
}

/* Out of address space: the actors already spawned finish under the
 * limit, needing nothing more from it. */
START_TEST(spawn_fails_with_enomem_and_recovers)
{
	check_exhaustion(rlimit_child);
}
END_TEST

/*
 * pthread_create() as the runtime calls it, for where RLIMIT_AS does not
 * starve threads: qemu-user accepts the limit and leaves it to itself,
 * as the guest's address space is its own.  While threads_left is not
 * negative, that many more threads start and the next ones fail with
 * EAGAIN, as pthread_create() does out of memory.
 */
static _Atomic int threads_left = -1;

int
pthread_create(pthread_t *t, const pthread_attr_t *attr,
    void *(*fn)(void *), void *arg)
{
	static int (*real)(pthread_t *, const pthread_attr_t *,
	    void *(*)(void *), void *);
	int left = atomic_load(&threads_left);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "pthread_create");
	while (left > 0 &&
	    !atomic_compare_exchange_weak(&threads_left, &left, left - 1))
		;
	if (left == 0)
		return EAGAIN;
	return real(t, attr, fn, arg);
}

static void
thread_failure_child(void)
{
	struct rlimit old, low;
	long threads = proc_status_kb("Threads");	/* qemu has its own */
	int err;

	getrlimit(RLIMIT_AS, &old);
	low = old;
	/* Room for the runtime's tables (and valgrind's), not for 64
	 * thread stacks of 8 MiB. */
	low.rlim_cur = (rlim_t)(proc_status_kb("VmSize") + 128 * 1024) * 1024;
	if (setrlimit(RLIMIT_AS, &low) != 0)
		_exit(13);
	if (!rlimit_as_holds(low.rlim_cur)) {
		fprintf(stderr, "RLIMIT_AS is not enforced here: the fifth "
		    "thread fails instead\n");
		atomic_store(&threads_left, 4);
	}
	err = snow_rt_init_actor(64);
	setrlimit(RLIMIT_AS, &old);
	atomic_store(&threads_left, -1);
	if (err != EAGAIN && err != ENOMEM)
		_exit(30);
	if (threads_settled(threads) != threads)
		_exit(31);	/* a worker was left behind */
	errno = 0;
	if (snow_actor_spawn(held_actor, NULL, 0, SNOW_PRIO_NORMAL) != 0 ||
	    errno != EPERM)
		_exit(32);
	/* A failed start leaves nothing that stops the next one. */
	if (snow_rt_init_actor(2) != 0)
		_exit(33);
	if (snow_actor_spawn(held_actor, NULL, 0, SNOW_PRIO_NORMAL) == 0)
		_exit(34);
	if (snow_rt_run_scheduler() != 0 || atomic_load(&held_ran) != 1)
		_exit(35);
	fprintf(stderr, "init failed with %s\n", strerror(err));
	_exit(0);
}

START_TEST(worker_start_failure_leaves_nothing)
{
	char err[4096];
	int status = run_child(thread_failure_child, 0, err, sizeof(err));

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child status %#x, stderr: %s", status, err);
}
END_TEST
#endif /* SANITIZED */

/* ---- arguments at their limits ---- */

static _Atomic int big_ok;

static void
check_full_stack_args(const void *arg)
{
	const unsigned char *b = arg;
	size_t i;

	for (i = 0; i < 65536; i++)
		if (b[i] != (unsigned char)(i * 7))
			return;
	atomic_store(&big_ok, 1);
}

START_TEST(args_up_to_the_stack_size)
{
	unsigned char *buf = malloc(65537);
	size_t i;

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < 65537; i++)
		buf[i] = (unsigned char)(i * 7);
	setenv("SNOW_STACK_SIZE", "65536", 1);
	ck_assert_int_eq(snow_rt_init_actor(1), 0);
	unsetenv("SNOW_STACK_SIZE");
	errno = 0;
	ck_assert_uint_eq(snow_actor_spawn(check_full_stack_args, buf, 65537,
	    SNOW_PRIO_NORMAL), 0);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_ne(snow_actor_spawn(check_full_stack_args, buf, 65536,
	    SNOW_PRIO_NORMAL), 0);
	memset(buf, 0, 65537);
	ck_assert_int_eq(snow_rt_run_scheduler(), 0);
	ck_assert_int_eq(atomic_load(&big_ok), 1);
	free(buf);
}
END_TEST

START_TEST(bad_stack_size_is_rejected)
{
	static const char *bad[] = { "abc", "12", "100x", "-65536", "2G",
	    "99999999999999999999" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("SNOW_STACK_SIZE", bad[i], 1);
		ck_assert_msg(snow_rt_init_actor(1) == EINVAL,
		    "SNOW_STACK_SIZE=%s accepted", bad[i]);
	}
	setenv("SNOW_STACK_SIZE", "256K", 1);
	ck_assert_int_eq(snow_rt_init_actor(1), 0);
	unsetenv("SNOW_STACK_SIZE");
	ck_assert_int_eq(snow_rt_run_scheduler(), 0);
}
END_TEST

static Suite *
hardening_suite(void)
{
	Suite *s = suite_create("hardening");
	TCase *tc;

	tc = tcase_create("faults");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, stack_overflow_is_reported_and_aborts);
	tcase_add_test(tc, overflow_of_a_stack_from_a_batch_is_reported);
	tcase_add_test(tc, frame_larger_than_the_guard_is_reported_and_aborts);
	tcase_add_test(tc, overflow_under_a_chaining_handler_is_reported);
#ifndef SANITIZED
	tcase_add_test(tc, spawn_fails_with_enomem_when_maps_fail);
	if (!RUNNING_ON_VALGRIND)
		/* Memcheck shadows each stack as its actor first touches
		 * it, under the same limit: an actor first run once the
		 * runtime has used the space up aborts valgrind. */
		tcase_add_test(tc, spawn_fails_with_enomem_and_recovers);
	tcase_add_test(tc, worker_start_failure_leaves_nothing);
#endif
	suite_add_tcase(s, tc);

	tc = tcase_create("signals");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, handler_installed_before_init_is_chained_and_put_back);
	tcase_add_test(tc, handler_installed_after_init_chains_and_stays);
	suite_add_tcase(s, tc);

	tc = tcase_create("input");
	tcase_set_timeout(tc, TIMEOUT);
	tcase_add_test(tc, args_up_to_the_stack_size);
	tcase_add_test(tc, bad_stack_size_is_rejected);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(hardening_suite());
}
