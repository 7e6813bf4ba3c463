/* Runs the parts of one fill on several threads: part 0 on the caller, the others on
 * threads started for the call, within a process-wide budget of helper threads so that
 * concurrent callers never oversubscribe the machine.  Parts that get no thread run on
 * the caller, so the result never depends on how many threads were had.  Threads are
 * started per call (no pool survives between calls), which keeps fork() safe. */
#ifndef FASTINIT_PARALLEL_H
#define FASTINIT_PARALLEL_H

typedef void (*fi_part_fn)(void *ctx, int part, int nparts);

/* Calls fn(ctx, p, nparts) once for each p in [0, nparts). */
void fi_run_parts(int nparts, fi_part_fn fn, void *ctx);

/* The most helper threads alive at once across all callers (default: 64). */
void fi_set_helper_budget(int helpers);

#endif
