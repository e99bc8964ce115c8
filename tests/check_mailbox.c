/*
 * The mailbox queue on its own: order, emptiness, and millions of
 * messages from concurrent senders with none lost, duplicated or
 * reordered within a sender.
 */
#include "config.h"

#include <check.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "mailbox.h"

#include "run_suite.h"
#include "test_env.h"

#define SENDERS 4
#define PER_SENDER (RUNNING_ON_VALGRIND ? 20000u : 500000u)

START_TEST(empty_mailbox_pops_null)
{
	struct sn_mailbox mb;

	sn_mailbox_init(&mb);
	ck_assert_ptr_null(sn_mailbox_pop(&mb));
	ck_assert_ptr_null(sn_mailbox_pop(&mb));
}
END_TEST

START_TEST(one_sender_fifo)
{
	struct sn_mailbox mb;
	struct sn_msg *m;
	uint32_t i, v, next = 0;

	sn_mailbox_init(&mb);
	for (i = 0; i < 1000; i++) {
		m = sn_msg_new(7, &i, sizeof(i));
		ck_assert_ptr_nonnull(m);
		sn_mailbox_push(&mb, m);
		if (i % 3 != 0)
			continue;
		/* Pops interleaved with pushes come out oldest first. */
		m = sn_mailbox_pop(&mb);
		ck_assert_ptr_nonnull(m);
		memcpy(&v, m->data, sizeof(v));
		ck_assert_uint_eq(v, next++);
		sn_msg_free(m);
	}
	while ((m = sn_mailbox_pop(&mb)) != NULL) {
		memcpy(&v, m->data, sizeof(v));
		ck_assert_uint_eq(v, next++);
		sn_msg_free(m);
	}
	ck_assert_uint_eq(next, 1000);
}
END_TEST

START_TEST(order_and_contents)
{
	struct sn_mailbox mb;
	struct sn_msg *m;
	char text[32];
	int i;

	sn_mailbox_init(&mb);
	for (i = 0; i < 100; i++) {
		snprintf(text, sizeof(text), "message %d", i);
		sn_mailbox_push(&mb, sn_msg_new((uint64_t)i, text,
		    strlen(text) + 1));
	}
	for (i = 0; i < 100; i++) {
		m = sn_mailbox_pop(&mb);
		ck_assert_ptr_nonnull(m);
		snprintf(text, sizeof(text), "message %d", i);
		ck_assert_uint_eq(m->tag, (uint64_t)i);
		ck_assert_uint_eq(m->len, strlen(text) + 1);
		ck_assert_str_eq((const char *)m->data, text);
		/* The ABI's view: [tag][len][bytes] from &tag. */
		ck_assert_uint_eq(((const uint64_t *)&m->tag)[1], m->len);
		sn_msg_free(m);
	}
	ck_assert_ptr_null(sn_mailbox_pop(&mb));
}
END_TEST

START_TEST(message_sizes)
{
	struct sn_msg *m = sn_msg_new(1, NULL, 0);

	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->len, 0);
	sn_msg_free(m);
	ck_assert_ptr_null(sn_msg_new(1, "x", UINT64_MAX));
}
END_TEST

struct sender {
	pthread_t tid;
	struct sn_mailbox *mb;
	uint64_t id;
};

static void *
send_all(void *arg)
{
	struct sender *s = arg;
	uint64_t seq;

	for (seq = 0; seq < PER_SENDER; seq++) {
		struct sn_msg *m = sn_msg_new(s->id, &seq, sizeof(seq));

		if (m == NULL)
			abort();
		sn_mailbox_push(s->mb, m);
	}
	return NULL;
}

START_TEST(concurrent_senders_lose_nothing)
{
	struct sender senders[SENDERS];
	uint64_t expect[SENDERS] = { 0 }, got = 0, seq;
	struct sn_mailbox mb;
	struct sn_msg *m;
	int i, bad = 0;

	sn_mailbox_init(&mb);
	for (i = 0; i < SENDERS; i++) {
		senders[i].mb = &mb;
		senders[i].id = (uint64_t)i;
		ck_assert_int_eq(pthread_create(&senders[i].tid, NULL,
		    send_all, &senders[i]), 0);
	}
	while (got < (uint64_t)SENDERS * PER_SENDER) {
		m = sn_mailbox_pop(&mb);
		if (m == NULL)
			continue;	/* empty, or a push half done */
		memcpy(&seq, m->data, sizeof(seq));
		if (m->tag >= SENDERS || seq != expect[m->tag])
			bad++;		/* lost, duplicated or reordered */
		else
			expect[m->tag]++;
		sn_msg_free(m);
		got++;
	}
	for (i = 0; i < SENDERS; i++)
		pthread_join(senders[i].tid, NULL);
	ck_assert_int_eq(bad, 0);
	for (i = 0; i < SENDERS; i++)
		ck_assert_uint_eq(expect[i], PER_SENDER);
	ck_assert_ptr_null(sn_mailbox_pop(&mb));
}
END_TEST

/*
 * What the calling thread's list should hold after it frees ms[0..n),
 * starting from kept blocks, and how many batches it should spill: a
 * block is kept when its usable size is a small block's (malloc may hand
 * out a slightly larger chunk, which is freed instead).  Call it before
 * the frees.
 */
static void
expect_frees(struct sn_msg **ms, unsigned n, unsigned *kept,
    unsigned *spills)
{
	void *probe = malloc(SN_MSG_SMALL);
	size_t small = malloc_usable_size(probe);
	unsigned i;

	free(probe);
	for (i = 0; i < n; i++) {
		if (malloc_usable_size(ms[i]) != small)
			continue;
		if (*kept == SN_MSG_CACHE_MAX) {
			*kept -= SN_MSG_BATCH;
			(*spills)++;
		}
		(*kept)++;
	}
}

/*
 * A worker thread's list of small message blocks: freed small blocks
 * are kept up to the bound, past it half the list goes to the depot,
 * and they are handed out again; large ones never; stop gives them back
 * and keeps no more.  Off under AddressSanitizer, which must see every
 * free.
 */
START_TEST(small_blocks_kept_bounded_and_given_back)
{
	enum { N = SN_MSG_CACHE_MAX + 88 };
	static struct sn_msg *ms[N];
	struct sn_msg *big;
	uint64_t v = 7;
	unsigned i, kept = 0, spills = 0;

	ck_assert_uint_eq(sn_msg_cache_count(), 0);
	ck_assert_uint_eq(sn_msg_depot_count(), 0);
	sn_msg_cache_start();
	for (i = 0; i < N; i++)
		ck_assert_ptr_nonnull(ms[i] = sn_msg_new(1, &v, sizeof(v)));
	expect_frees(ms, N, &kept, &spills);
	for (i = 0; i < N; i++)
		sn_msg_free(ms[i]);
#ifdef SN_ASAN
	ck_assert_uint_eq(sn_msg_cache_count(), 0);
	ck_assert_uint_eq(sn_msg_depot_count(), 0);
#else
	/* Full at SN_MSG_CACHE_MAX: a batch went to the depot. */
	ck_assert_uint_gt(spills, 0);
	ck_assert_uint_eq(sn_msg_cache_count(), kept);
	ck_assert_uint_eq(sn_msg_depot_count(), spills);
	/* Handed out again, contents and all as asked. */
	for (i = 0; i < 10; i++) {
		ck_assert_ptr_nonnull(ms[i] = sn_msg_new(2, &v, sizeof(v)));
		ck_assert_uint_eq(ms[i]->tag, 2);
		ck_assert_uint_eq(ms[i]->len, sizeof(v));
		ck_assert_int_eq(memcmp(ms[i]->data, &v, sizeof(v)), 0);
	}
	ck_assert_uint_eq(sn_msg_cache_count(), kept - 10);
	/* An empty message takes a small block and gives it back; one too
	 * big for a small block comes and goes by malloc. */
	ck_assert_ptr_nonnull(big = sn_msg_new(3, NULL, 0));
	ck_assert_uint_eq(sn_msg_cache_count(), kept - 11);
	sn_msg_free(big);
	ck_assert_ptr_nonnull(big = sn_msg_alloc(3, SN_MSG_SMALL, 0));
	sn_msg_free(big);
	ck_assert_uint_eq(sn_msg_cache_count(), kept - 10);
	for (i = 0; i < 10; i++)
		sn_msg_free(ms[i]);
#endif
	sn_msg_cache_stop();
	ck_assert_uint_eq(sn_msg_cache_count(), 0);
	/* After stop, frees are plain frees again. */
	ck_assert_ptr_nonnull(big = sn_msg_new(4, &v, sizeof(v)));
	sn_msg_free(big);
	ck_assert_uint_eq(sn_msg_cache_count(), 0);
	sn_msg_depot_drain();
	ck_assert_uint_eq(sn_msg_depot_count(), 0);
}
END_TEST

/* What the consumer's thread spilled, and what the producer's took. */
static struct sn_msg *spilled[SN_MSG_CACHE_MAX + SN_MSG_BATCH / 2];
static struct sn_msg *taken;
static unsigned taken_kept;

static void *
producer_thread(void *arg)
{
	uint64_t v = 9;

	(void)arg;
	sn_msg_cache_start();
	taken = sn_msg_new(5, &v, sizeof(v));
	taken_kept = sn_msg_cache_count();
	sn_msg_free(taken);
	sn_msg_cache_stop();
	return NULL;
}

/*
 * A consumer's thread frees more than its list holds, a producer's thread
 * whose list is empty: the producer's next message is a block the
 * consumer freed, passed through the depot (the overload case: one core
 * sends, another receives).  And the depot is bounded: spills past
 * SN_MSG_DEPOT_MAX batches are freed.
 */
START_TEST(blocks_pass_from_consumer_to_producer)
{
	struct sn_msg *more[(SN_MSG_DEPOT_MAX + 4) * SN_MSG_BATCH];
	uint64_t v = 1;
	pthread_t t;
	unsigned i, n = sizeof(more) / sizeof(more[0]);
	unsigned nspilled = sizeof(spilled) / sizeof(spilled[0]);
	unsigned kept = 0, spills = 0;
	bool found = false;

	sn_msg_cache_start();
	for (i = 0; i < nspilled; i++)
		ck_assert_ptr_nonnull(spilled[i] = sn_msg_new(1, &v,
		    sizeof(v)));
	expect_frees(spilled, nspilled, &kept, &spills);
	for (i = 0; i < nspilled; i++)
		sn_msg_free(spilled[i]);
#ifdef SN_ASAN
	ck_assert_uint_eq(sn_msg_depot_count(), 0);
#else
	ck_assert_uint_eq(spills, 1);
	ck_assert_uint_eq(sn_msg_depot_count(), 1);
	ck_assert_int_eq(pthread_create(&t, NULL, producer_thread, NULL), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(sn_msg_depot_count(), 0);
	ck_assert_uint_eq(taken_kept, SN_MSG_BATCH - 1);
	/* The older half spilled: among the first blocks freed. */
	for (i = 0; i < nspilled - SN_MSG_BATCH / 2; i++)
		found |= spilled[i] == taken;
	ck_assert(found);
	/* Bounded: more spills than the depot keeps. */
	for (i = 0; i < n; i++)
		ck_assert_ptr_nonnull(more[i] = sn_msg_alloc(1, 8, 0));
	for (i = 0; i < n; i++)
		sn_msg_free(more[i]);
	ck_assert_uint_eq(sn_msg_depot_count(), SN_MSG_DEPOT_MAX);
#endif
	sn_msg_cache_stop();
	sn_msg_depot_drain();
	ck_assert_uint_eq(sn_msg_depot_count(), 0);
}
END_TEST

static Suite *
mailbox_suite(void)
{
	Suite *s = suite_create("mailbox");
	TCase *tc = tcase_create("mailbox");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, empty_mailbox_pops_null);
	tcase_add_test(tc, one_sender_fifo);
	tcase_add_test(tc, order_and_contents);
	tcase_add_test(tc, message_sizes);
	tcase_add_test(tc, concurrent_senders_lose_nothing);
	tcase_add_test(tc, small_blocks_kept_bounded_and_given_back);
	tcase_add_test(tc, blocks_pass_from_consumer_to_producer);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(mailbox_suite());
}
