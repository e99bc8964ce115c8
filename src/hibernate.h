/*
 * Hibernation sweeps (see hibernate.c): idle workers copy the live frames
 * of long-parked actors to the heap and give their stack pages back.
 */
#ifndef SN_HIBERNATE_H
#define SN_HIBERNATE_H

#include <stdbool.h>
#include <stdint.h>

struct sn_proc;
struct sn_worker;

#define SN_HIB_PERIOD	(20 * 1000000ull)	/* ns between hibernation sweeps */
#define SN_HIB_BATCH	4096	/* actors hibernated per sweep at most */

/*
 * Park p again with wait word word, as the scheduler parks an actor that
 * switched out: the sweep held p's wake and hands it back this way.
 */
typedef void (*sn_hib_repark_fn)(struct sn_worker *w, struct sn_proc *p,
    uint64_t word);

/*
 * From the scheduler's park, on worker w, once p's wait word (an untimed
 * receive) is published and fenced: list p for the sweeps unless it is
 * listed already or may not hibernate.  A load or two when it is.
 */
void sn_hib_candidate(struct sn_worker *w, struct sn_proc *p);

/*
 * One sweep by idle worker w, unless another began less than a period ago
 * (go_on: w's last sweep stopped at its batch, carry on with the same
 * generation).  True when more actors are due now, past its batch.  Costs
 * nothing (a few loads) when nothing is listed, and leaves w->hib_more
 * clear then, so that idle workers sleep without a timeout.
 */
bool sn_hib_sweep(struct sn_worker *w, bool go_on, sn_hib_repark_fn repark);

#endif /* SN_HIBERNATE_H */
