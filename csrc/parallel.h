/* Runs the parts of one fill on several threads: part 0 on the caller, the others on
 * threads started for the call, within a process-wide budget of helper threads so that
 * concurrent callers never oversubscribe the machine.  Parts that get no thread run on
 * the caller, so the result never depends on how many threads were had.  Threads are
 * started per call (no pool survives between calls), which keeps fork() safe.  Nothing
 * here needs more than a few hundred bytes of the caller's stack: a library must run on
 * the small stacks threads may be given (Python's threading.stack_size allows 32 KiB). */
#ifndef FASTINIT_PARALLEL_H
#define FASTINIT_PARALLEL_H

#include <stdint.h>

/* on_caller: 1 when the part runs on the calling thread (the only one that may poll for
 * an interrupt, since it alone may call back into its caller). */
typedef void (*fi_part_fn)(void *ctx, int part, int nparts, int on_caller);

/* Calls fn(ctx, p, nparts, on_caller) once for each p in [0, nparts). */
void fi_run_parts(int nparts, fi_part_fn fn, void *ctx);

/* The most helper threads alive at once across all callers (default: 64). */
void fi_set_helper_budget(int helpers);

/* A flag shared by the parts of one call: raised by one, seen by all (relaxed: it only
 * stops work early, it orders nothing). */
#if defined(_WIN32)
typedef volatile long fi_flag;
#else
#  include <stdatomic.h>
typedef atomic_int fi_flag;
#endif
void fi_flag_raise(fi_flag *flag);
int fi_flag_is_raised(fi_flag *flag);

/* Milliseconds on a clock that never goes back (for pacing interrupt polls). */
uint64_t fi_monotonic_ms(void);

#endif
