/*
 * Registered names; see names.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

#define SN_NAME_BUCKETS_MIN	16

static struct sn_name_shard *
shard_of(struct sn_names *t, uint64_t h)
{
	return &t->shard[h >> 60];	/* SN_NAME_SHARDS == 16 */
}

static struct sn_name **
bucket_of(struct sn_name_shard *s, uint64_t h)
{
	return &s->buckets[h & (s->nbuckets - 1)];
}

int
sn_names_init(struct sn_names *t)
{
	int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < SN_NAME_SHARDS; i++) {
		struct sn_name_shard *s = &t->shard[i];

		s->buckets = calloc(SN_NAME_BUCKETS_MIN, sizeof(*s->buckets));
		if (s->buckets == NULL) {
			sn_names_destroy(t);
			return ENOMEM;
		}
		s->nbuckets = SN_NAME_BUCKETS_MIN;
		pthread_mutex_init(&s->lock, NULL);
	}
	return 0;
}

void
sn_names_destroy(struct sn_names *t)
{
	int i;

	for (i = 0; i < SN_NAME_SHARDS; i++) {
		struct sn_name_shard *s = &t->shard[i];
		struct sn_name *n, *next;
		size_t b;

		if (s->buckets == NULL)
			continue;
		for (b = 0; b < s->nbuckets; b++)
			for (n = s->buckets[b]; n != NULL; n = next) {
				next = n->next;
				free(n);
			}
		free(s->buckets);
		s->buckets = NULL;
		pthread_mutex_destroy(&s->lock);
	}
}

static struct sn_name *
lookup(struct sn_name_shard *s, uint64_t h, const char *name, size_t len)
{
	struct sn_name *n;

	for (n = *bucket_of(s, h); n != NULL; n = n->next)
		if (n->hash == h && n->len == len &&
		    memcmp(n->bytes, name, len) == 0)
			return n;
	return NULL;
}

/* Double the buckets when chains average two; keep the size if short of
 * memory: chains get longer, nothing is lost. */
static void
shard_grow(struct sn_name_shard *s)
{
	size_t n = s->nbuckets * 2, i;
	struct sn_name **b = calloc(n, sizeof(*b)), *e, *next;

	if (b == NULL)
		return;
	for (i = 0; i < s->nbuckets; i++)
		for (e = s->buckets[i]; e != NULL; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

int
sn_names_add(struct sn_names *t, const char *name, size_t len, uint64_t pid,
    struct sn_name **out)
{
	uint64_t h = sn_hash_bytes(name, len);
	struct sn_name_shard *s = shard_of(t, h);
	struct sn_name *n, **b;

	n = malloc(sizeof(*n) + len);
	if (n == NULL)
		return ENOMEM;
	n->hash = h;
	n->pid = pid;
	n->len = len;
	memcpy(n->bytes, name, len);
	pthread_mutex_lock(&s->lock);
	if (lookup(s, h, name, len) != NULL) {
		pthread_mutex_unlock(&s->lock);
		free(n);
		return EEXIST;
	}
	if (s->count >= 2 * s->nbuckets)
		shard_grow(s);
	b = bucket_of(s, h);
	n->next = *b;
	*b = n;
	s->count++;
	pthread_mutex_unlock(&s->lock);
	*out = n;
	return 0;
}

void
sn_names_remove(struct sn_names *t, struct sn_name *n)
{
	struct sn_name_shard *s = shard_of(t, n->hash);
	struct sn_name **pp;

	pthread_mutex_lock(&s->lock);
	for (pp = bucket_of(s, n->hash); *pp != NULL; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			s->count--;
			break;
		}
	pthread_mutex_unlock(&s->lock);
	free(n);
}

uint64_t
sn_names_find(struct sn_names *t, const char *name, size_t len)
{
	uint64_t h = sn_hash_bytes(name, len), pid = 0;
	struct sn_name_shard *s = shard_of(t, h);
	struct sn_name *n;

	pthread_mutex_lock(&s->lock);
	n = lookup(s, h, name, len);
	if (n != NULL)
		pid = n->pid;
	pthread_mutex_unlock(&s->lock);
	return pid;
}
