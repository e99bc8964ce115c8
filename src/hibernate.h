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
 * One sweep by idle worker w, unless another began less than a period ago
 * (go_on: w's last sweep stopped at its batch, carry on with the same
 * generation).  True when it stopped at its batch too, having hibernated
 * some.
 */
bool sn_hib_sweep(struct sn_worker *w, bool go_on, sn_hib_repark_fn repark);

#endif /* SN_HIBERNATE_H */
