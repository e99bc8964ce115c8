/*
 * Supervisors: an actor that traps exits, starts its children linked to
 * it, and restarts them as its strategy says when they end.
 *
 * Everything a supervisor knows lives in its own state, touched by the
 * supervisor alone: requests from outside (start a child, terminate one,
 * count them) are service calls to it (service.c), answered in its loop
 * between exits, so no lock is needed and a request never sees a restart
 * half done.  A child's end reaches it as a SNOW_MSG_EXIT through the
 * link; a child it terminates itself is waited for by PID (a selective
 * receive), so that end is never taken for a failure.
 *
 * Restart intensity is Erlang's: more than max_restarts restarts within
 * max_seconds, a sliding window, and the supervisor terminates every
 * child and ends with SNOW_EXIT_SHUTDOWN, for its own supervisor to act
 * on.  An exit signal to the supervisor itself (from its parent, say)
 * terminates its children in reverse start order and ends it with that
 * reason.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snow/runtime.h>

#include "actor.h"
#include "internal.h"
#include "scheduler.h"
#include "timer.h"

/* errno of the calling thread, written after a call that may have moved
 * the actor to another worker (see snow_errno()). */
static SN_NOINLINE void
set_errno(int err)
{
	errno = err;
}

/* Operations of the service calls to a supervisor. */
enum { OP_START_CHILD = 1, OP_TERMINATE_CHILD = 2, OP_COUNT = 3 };

/* A terminated child that does not end within this is killed, when its
 * spec gives no timeout of its own (0 with SNOW_SHUTDOWN_TIMEOUT). */
#define DEFAULT_SHUTDOWN_MS	5000

struct child {
	struct snow_child_spec spec;	/* args point into args_copy */
	void *args_copy;
	char *id_copy;
	uint64_t pid;			/* 0: not running */
};

struct sup {
	uint8_t strategy;
	uint32_t max_restarts;
	uint64_t max_ns;
	struct child *kids;		/* in start order */
	uint32_t n, cap;
	struct child template;		/* simple_one_for_one */
	uint64_t *restarts;		/* ring of max_restarts + 1 times */
	uint32_t nrestarts;
};

/* ---- Specs ---- */

static int
child_copy(struct child *c, const struct snow_child_spec *s)
{
	size_t idlen = s->id != NULL ? strlen(s->id) : 0;

	memset(c, 0, sizeof(*c));
	if ((s->start == NULL && (s->type != SNOW_CHILD_SUPERVISOR ||
	    s->sup == NULL)) || s->restart > SNOW_RESTART_TEMPORARY ||
	    s->shutdown > SNOW_SHUTDOWN_TIMEOUT ||
	    s->type > SNOW_CHILD_SUPERVISOR ||
	    (s->args == NULL && s->args_size != 0))
		return EINVAL;
	c->spec = *s;
	if ((c->id_copy = malloc(idlen + 1)) == NULL)
		return ENOMEM;
	memcpy(c->id_copy, s->id != NULL ? s->id : "", idlen + 1);
	c->spec.id = c->id_copy;
	if (s->args_size != 0) {
		if ((c->args_copy = malloc(s->args_size)) == NULL) {
			free(c->id_copy);
			return ENOMEM;
		}
		memcpy(c->args_copy, s->args, s->args_size);
		c->spec.args = c->args_copy;
	}
	return 0;
}

static void
child_free(struct child *c)
{
	free(c->args_copy);
	free(c->id_copy);
	c->args_copy = NULL;
	c->id_copy = NULL;
}

static void
sup_free(void *arg)
{
	struct sup *s = arg;
	uint32_t i;

	for (i = 0; i < s->n; i++)
		child_free(&s->kids[i]);
	child_free(&s->template);
	free(s->kids);
	free(s->restarts);
	free(s);
}

static int
kids_grow(struct sup *s)
{
	uint32_t cap = s->cap ? s->cap * 2 : 8;
	struct child *k;

	if (s->n < s->cap)
		return 0;
	if ((k = realloc(s->kids, cap * sizeof(*k))) == NULL)
		return ENOMEM;
	s->kids = k;
	s->cap = cap;
	return 0;
}

static struct sup *
sup_new(const struct snow_sup_spec *spec, int *err)
{
	struct sup *s;
	uint32_t i;

	*err = EINVAL;
	if (spec == NULL || spec->strategy > SNOW_SUP_SIMPLE_ONE_FOR_ONE ||
	    (spec->nchildren != 0 && spec->children == NULL) ||
	    (spec->strategy == SNOW_SUP_SIMPLE_ONE_FOR_ONE &&
	    spec->nchildren != 1) || spec->max_seconds > UINT64_MAX / 1000000000u)
		return NULL;
	*err = ENOMEM;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->strategy = spec->strategy;
	s->max_restarts = spec->max_restarts;
	s->max_ns = spec->max_seconds * 1000000000u;
	if ((uint64_t)s->max_restarts + 1 > SIZE_MAX / sizeof(uint64_t) ||
	    (s->restarts = calloc((size_t)s->max_restarts + 1,
	    sizeof(uint64_t))) == NULL)
		goto fail;
	if (s->strategy == SNOW_SUP_SIMPLE_ONE_FOR_ONE) {
		if ((*err = child_copy(&s->template, &spec->children[0])) != 0)
			goto fail;
		return s;
	}
	for (i = 0; i < spec->nchildren; i++) {
		if ((*err = kids_grow(s)) != 0 ||
		    (*err = child_copy(&s->kids[s->n], &spec->children[i])) != 0)
			goto fail;
		s->n++;
	}
	return s;
fail:
	sup_free(s);
	return NULL;
}

/* ---- Children ---- */

/*
 * What a child starts with: it links to its supervisor before it runs
 * its function, so that its end always reaches the supervisor with its
 * real reason (a link made by the supervisor after the spawn could find
 * a quick child gone, and hear only noproc).
 */
struct child_boot {
	snow_actor_fn fn;
	const struct snow_sup_spec *sup;	/* or a nested supervisor */
	uint64_t parent;
	uint64_t size;			/* of the arguments after this */
	const void *ptr;		/* the arguments when size is 0 */
	unsigned char bytes[] __attribute__((aligned(16)));
};

static void sup_run(struct sup *s);

static void
child_entry(const void *arg)
{
	const struct child_boot *b = arg;
	struct sup *nested;
	int err;

	/* A nested supervisor traps exits before it links: an exit signal
	 * from its parent then always finds it able to stop its children. */
	if (b->sup != NULL)
		(void)snow_actor_trap_exit();
	(void)snow_actor_link(b->parent);
	if (b->sup == NULL) {
		b->fn(b->size != 0 ? b->bytes : b->ptr);
		return;
	}
	if ((nested = sup_new(b->sup, &err)) == NULL)
		snow_actor_exit(snow_actor_self(), SNOW_EXIT_ERROR);
	sup_run(nested);
}

/* Start c linked to the supervisor: 0 or an errno value. */
static int
child_start(struct child *c)
{
	const struct snow_child_spec *sp = &c->spec;
	struct child_boot *b;
	uint64_t pid;
	int err;

	if ((b = malloc(sizeof(*b) + sp->args_size)) == NULL)
		return ENOMEM;
	b->fn = sp->start;
	b->sup = sp->type == SNOW_CHILD_SUPERVISOR ? sp->sup : NULL;
	b->parent = snow_actor_self();
	b->size = sp->args_size;
	b->ptr = sp->args;
	if (sp->args_size != 0)
		memcpy(b->bytes, sp->args, sp->args_size);
	pid = snow_actor_spawn(child_entry, b, sizeof(*b) + sp->args_size,
	    SNOW_PRIO_NORMAL);
	err = errno;
	free(b);
	if (pid == 0)
		return err;
	c->pid = pid;
	return 0;
}

/*
 * Terminate c as its spec says, and wait until it has ended: by a
 * monitor, since a child just started may not have linked yet.  Its
 * link's exit message, sent before the DOWN, is then taken too, so the
 * loop never sees this end as a failure.
 */
static void
child_stop(struct child *c)
{
	uint64_t ms = c->spec.shutdown_ms ? c->spec.shutdown_ms :
	    DEFAULT_SHUTDOWN_MS, ref;

	if (c->pid == 0)
		return;
	ref = snow_process_monitor(c->pid);
	if (c->spec.shutdown == SNOW_SHUTDOWN_TIMEOUT) {
		(void)snow_actor_exit(c->pid, SNOW_EXIT_SHUTDOWN);
		if (ref != 0 && snow_actor_receive_key(SNOW_MSG_DOWN, ref,
		    (int64_t)ms) != NULL)
			goto gone;
	}
	(void)snow_actor_kill(c->pid);
	if (ref != 0)
		(void)snow_actor_receive_key(SNOW_MSG_DOWN, ref, -1);
	else
		(void)snow_actor_receive_key(SNOW_MSG_EXIT, c->pid, -1);
gone:
	/*
	 * Its DOWN is in; its exit message may not be yet: an actor leaves
	 * the table before it signals its links.  Still in our link set, the
	 * exit is on its way, and must be taken here, or the loop would see
	 * an exit from a PID that is no child and end the supervisor.  Not
	 * in it: delivered already, or it ended before it linked.
	 */
	(void)snow_actor_receive_key(SNOW_MSG_EXIT, c->pid,
	    sn_actor_linked(sn_sched_current(), c->pid) ? -1 : 0);
	c->pid = 0;
}

/* Stop the running children from last down to first, in reverse order. */
static void
stop_range(struct sup *s, uint32_t first, uint32_t last)
{
	uint32_t i;

	for (i = last + 1; i-- > first;)
		child_stop(&s->kids[i]);
}

static void
stop_all_and_end(struct sup *s, uint8_t reason)
{
	if (s->n != 0)
		stop_range(s, 0, s->n - 1);
	snow_actor_exit(snow_actor_self(), reason);
}

/* Whether one more restart now stays within the intensity. */
static bool
restart_allowed(struct sup *s)
{
	uint32_t slots = s->max_restarts + 1, oldest;
	uint64_t now = sn_now_ns();

	s->restarts[s->nrestarts % slots] = now;
	s->nrestarts++;
	if (s->nrestarts <= s->max_restarts)
		return true;
	oldest = s->nrestarts % slots;	/* max_restarts + 1 restarts ago */
	return now - s->restarts[oldest] > s->max_ns;
}

static bool
wants_restart(const struct child *c, uint64_t reason)
{
	switch (c->spec.restart) {
	case SNOW_RESTART_PERMANENT:
		return true;
	case SNOW_RESTART_TRANSIENT:
		return reason != SNOW_EXIT_NORMAL &&
		    reason != SNOW_EXIT_SHUTDOWN;
	default:
		return false;
	}
}

/* Start children first..last in order; a child that cannot start ends
 * the supervisor, as a failed restart does in Erlang. */
static void
start_range(struct sup *s, uint32_t first, uint32_t last)
{
	uint32_t i;

	int err;

	for (i = first; i <= last && i < s->n; i++)
		if ((err = child_start(&s->kids[i])) != 0) {
			fprintf(stderr, "snow-rt: supervisor %llu: child %u (%s) "
			    "could not start: %s; shutting down\n",
			    (unsigned long long)snow_actor_self(), i,
			    s->kids[i].spec.id, strerror(err));
			stop_all_and_end(s, SNOW_EXIT_SHUTDOWN);
		}
}

static void
remove_kid(struct sup *s, uint32_t i)
{
	child_free(&s->kids[i]);
	memmove(&s->kids[i], &s->kids[i + 1], (s->n - i - 1) *
	    sizeof(s->kids[0]));
	s->n--;
}

/* Child i ended with reason: what the strategy says. */
static void
child_ended(struct sup *s, uint32_t i, uint64_t reason)
{
	s->kids[i].pid = 0;
	if (!wants_restart(&s->kids[i], reason)) {
		if (s->strategy == SNOW_SUP_SIMPLE_ONE_FOR_ONE ||
		    s->kids[i].spec.restart == SNOW_RESTART_TEMPORARY)
			remove_kid(s, i);
		return;
	}
	if (!restart_allowed(s))
		stop_all_and_end(s, SNOW_EXIT_SHUTDOWN);
	switch (s->strategy) {
	case SNOW_SUP_ONE_FOR_ALL:
		stop_range(s, 0, s->n - 1);
		start_range(s, 0, s->n - 1);
		break;
	case SNOW_SUP_REST_FOR_ONE:
		stop_range(s, i, s->n - 1);
		start_range(s, i, s->n - 1);
		break;
	default:
		start_range(s, i, i);
		break;
	}
}

static int64_t
find_kid(const struct sup *s, uint64_t pid)
{
	uint32_t i;

	for (i = 0; i < s->n; i++)
		if (s->kids[i].pid == pid)
			return i;
	return -1;
}

/* ---- Requests ---- */

static uint64_t
op_start_child(struct sup *s, const void *args, uint64_t size)
{
	struct snow_child_spec spec;
	struct child *c;

	if (s->strategy != SNOW_SUP_SIMPLE_ONE_FOR_ONE || kids_grow(s) != 0)
		return UINT64_MAX;
	spec = s->template.spec;
	spec.args = size != 0 ? args : NULL;
	spec.args_size = size;
	c = &s->kids[s->n];
	if (child_copy(c, &spec) != 0)
		return UINT64_MAX;
	if (child_start(c) != 0) {
		child_free(c);
		return UINT64_MAX;
	}
	s->n++;
	return c->pid;
}

static uint64_t
op_terminate_child(struct sup *s, uint64_t pid)
{
	int64_t i = find_kid(s, pid);

	if (pid == 0 || i < 0)
		return 1;
	child_stop(&s->kids[i]);
	if (s->strategy == SNOW_SUP_SIMPLE_ONE_FOR_ONE ||
	    s->kids[i].spec.restart == SNOW_RESTART_TEMPORARY)
		remove_kid(s, (uint32_t)i);
	return 0;
}

static uint64_t
op_count(const struct sup *s)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < s->n; i++)
		n += s->kids[i].pid != 0;
	return n;
}

/* A call: [op][caller][payload]; the answer is one u64. */
static void
request(struct sup *s, const struct snow_msg *m)
{
	uint64_t op, caller, arg = 0, answer = UINT64_MAX;

	memcpy(&op, m->data, sizeof(op));
	memcpy(&caller, m->data + 8, sizeof(caller));
	if (m->len >= 24)
		memcpy(&arg, m->data + 16, sizeof(arg));
	if (op == OP_START_CHILD)
		answer = op_start_child(s, m->data + 16, m->len - 16);
	else if (op == OP_TERMINATE_CHILD)
		answer = op_terminate_child(s, arg);
	else if (op == OP_COUNT)
		answer = op_count(s);
	(void)snow_service_reply(caller, &answer, sizeof(answer));
}

/* ---- The supervisor ---- */

static void
sup_run(struct sup *s)
{
	const struct snow_msg *m;
	const struct snow_exit_msg *e;
	int64_t i;

	(void)snow_actor_set_state(s, sup_free);
	(void)snow_actor_trap_exit();
	(void)snow_actor_hibernate(1);
	if (s->n != 0)
		start_range(s, 0, s->n - 1);
	while ((m = snow_actor_receive(-1)) != NULL) {
		if (m->tag == SNOW_MSG_CALL && m->len >= 16) {
			request(s, m);
			continue;
		}
		if (m->tag != SNOW_MSG_EXIT)
			continue;	/* not for a supervisor */
		e = (const void *)m->data;
		if ((i = find_kid(s, e->pid)) >= 0)
			child_ended(s, (uint32_t)i, e->reason);
		else if (e->reason != SNOW_EXIT_NORMAL)
			stop_all_and_end(s, e->reason == SNOW_EXIT_NOPROC ?
			    SNOW_EXIT_SHUTDOWN : (uint8_t)e->reason);
	}
}

static void
supervisor_main(const void *arg)
{
	sup_run(*(struct sup *const *)arg);
}

uint64_t
snow_supervisor_start_spec(const struct snow_sup_spec *spec)
{
	struct sup *s;
	uint64_t pid;
	int err;

	if ((s = sup_new(spec, &err)) == NULL) {
		errno = err;
		return UINT64_MAX;
	}
	pid = snow_actor_spawn(supervisor_main, &s, sizeof(s),
	    SNOW_PRIO_NORMAL);
	if (pid == 0) {
		err = errno;
		sup_free(s);
		errno = err;
		return UINT64_MAX;
	}
	return pid;
}

/* A request to supervisor sup, answered with one u64. */
/* A request to supervisor sup, answered with one u64; *err is 0 when it
 * answered, else why not. */
static uint64_t
ask(uint64_t sup, uint64_t op, const void *payload, uint64_t size, int *err)
{
	const struct snow_msg *m;
	uint64_t answer;

	*err = EINVAL;
	if (sup == 0)
		return UINT64_MAX;
	m = snow_service_call(sup, op, payload, size);
	if (m == NULL || m->len != sizeof(answer)) {
		*err = m == NULL ? snow_errno() : EINVAL;
		return UINT64_MAX;
	}
	memcpy(&answer, m->data, sizeof(answer));
	*err = 0;
	return answer;
}

uint64_t
snow_supervisor_start_child(uint64_t sup, const void *args, uint64_t size)
{
	uint64_t pid;
	int err;

	if (args == NULL && size != 0) {
		errno = EINVAL;
		return UINT64_MAX;
	}
	pid = ask(sup, OP_START_CHILD, args, size, &err);
	if (pid == UINT64_MAX)
		set_errno(err != 0 ? err : EINVAL);	/* 0: answered no */
	return pid;
}

uint64_t
snow_supervisor_terminate_child(uint64_t sup, uint64_t child)
{
	int err;
	uint64_t r = ask(sup, OP_TERMINATE_CHILD, &child, sizeof(child), &err);

	return r == 0 ? 0 : 1;
}

uint64_t
snow_supervisor_count_children(uint64_t sup)
{
	int err;
	uint64_t n = ask(sup, OP_COUNT, NULL, 0, &err);

	return n == UINT64_MAX ? 0 : n;
}

/* ---- The compiler's config blob ---- */

/* A reader of packed little-endian fields that fails once past the end. */
struct blob {
	const unsigned char *p;
	uint64_t left;
	bool bad;
};

static uint64_t
take(struct blob *b, unsigned bytes)
{
	uint64_t v = 0;
	unsigned i;

	if (b->bad || b->left < bytes) {
		b->bad = true;
		return 0;
	}
	for (i = 0; i < bytes; i++)
		v |= (uint64_t)b->p[i] << (8 * i);
	b->p += bytes;
	b->left -= bytes;
	return v;
}

/* The blob's fields (DESIGN.md), in order, into specs; ids point into
 * idbuf, NUL-terminated.  EINVAL for anything out of place. */
static int
parse(struct blob *b, struct snow_sup_spec *spec,
    struct snow_child_spec *kids, char *idbuf)
{
	uint32_t i, idlen;

	for (i = 0; i < spec->nchildren; i++) {
		struct snow_child_spec *k = &kids[i];

		idlen = (uint32_t)take(b, 4);
		if (b->bad || idlen > b->left)
			return EINVAL;
		memcpy(idbuf, b->p, idlen);
		idbuf[idlen] = '\0';
		k->id = idbuf;
		idbuf += idlen + 1;
		b->p += idlen;
		b->left -= idlen;
		k->start = (snow_actor_fn)(uintptr_t)take(b, 8);
		k->args = (const void *)(uintptr_t)take(b, 8);
		k->args_size = take(b, 8);
		k->restart = (uint8_t)take(b, 1);
		k->shutdown = (uint8_t)take(b, 1);
		k->shutdown_ms = take(b, 8);
		k->type = (uint8_t)take(b, 1);
		k->sup = NULL;
	}
	return b->bad || b->left != 0 ? EINVAL : 0;
}

uint64_t
snow_supervisor_start(const void *config, uint64_t size)
{
	struct blob b = { config, size, config == NULL };
	struct snow_sup_spec spec = { 0 };
	struct snow_child_spec *kids;
	char *ids;
	uint64_t pid;
	int err;

	spec.strategy = (uint8_t)take(&b, 1);
	spec.max_restarts = (uint32_t)take(&b, 4);
	spec.max_seconds = take(&b, 8);
	spec.nchildren = (uint32_t)take(&b, 4);
	/* Each child takes 39 bytes at least: a count past that is bad. */
	if (b.bad || spec.nchildren > b.left / 39) {
		errno = EINVAL;
		return UINT64_MAX;
	}
	kids = calloc(spec.nchildren ? spec.nchildren : 1, sizeof(*kids));
	ids = malloc(b.left + spec.nchildren + 1);
	if (kids == NULL || ids == NULL) {
		free(kids);
		free(ids);
		errno = ENOMEM;
		return UINT64_MAX;
	}
	spec.children = kids;
	err = parse(&b, &spec, kids, ids);
	pid = err == 0 ? snow_supervisor_start_spec(&spec) : UINT64_MAX;
	if (err != 0)
		errno = err;
	err = errno;
	free(kids);
	free(ids);
	errno = err;
	return pid;
}
