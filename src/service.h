/*
 * Services and jobs: calls that wait for their own answer, built on
 * monitors (monitor.h), selective receive (receive.c) and message keys
 * (mailbox.h).  See service.c and job.c.
 */
#ifndef SN_SERVICE_H
#define SN_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include <snow/runtime.h>

#include "proc.h"

/* self calls pid; the reply, handed out as a receive's, or NULL with *err:
 * ESRCH (pid not alive, or it ended first), ETIMEDOUT, EAGAIN (timeout 0
 * and no reply yet), ENOMEM. */
const struct sn_msg *sn_service_call(struct sn_proc *self, uint64_t pid,
    uint64_t tag, const void *payload, uint64_t size, int64_t timeout_ms,
    int *err);
/* Reply to caller from self (NULL: a thread outside the runtime). */
int sn_service_reply(struct sn_proc *self, uint64_t caller,
    const void *reply, uint64_t size);
/* For receives: whether a SNOW_MSG_REPLY m can answer no call of self. */
bool sn_service_reply_stale(const struct sn_proc *self,
    const struct sn_msg *m);

/* Jobs (job.c). */
uint64_t sn_job_async(struct sn_proc *self, snow_job_fn fn, void *env);
const struct sn_msg *sn_job_await(struct sn_proc *self, uint64_t job,
    int64_t timeout_ms, int *err);

#endif /* SN_SERVICE_H */
