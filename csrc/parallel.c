#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#  define _POSIX_C_SOURCE 200809L   /* clock_gettime */
#endif
#include "parallel.h"

#include <stdlib.h>

#if defined(_WIN32)
#  include <windows.h>
typedef HANDLE fi_thread;
static volatile LONG helpers_busy = 0;
static volatile LONG helper_budget = 64;
static int claim_helper(void)
{
    if (InterlockedIncrement(&helpers_busy) <= helper_budget) return 1;
    InterlockedDecrement(&helpers_busy);
    return 0;
}
static void release_helper(void) { InterlockedDecrement(&helpers_busy); }
void fi_set_helper_budget(int helpers) { InterlockedExchange(&helper_budget, helpers); }
void fi_flag_raise(fi_flag *flag) { InterlockedExchange(flag, 1); }
int fi_flag_is_raised(fi_flag *flag) { return InterlockedCompareExchange(flag, 0, 0) != 0; }
uint64_t fi_monotonic_ms(void) { return (uint64_t)GetTickCount64(); }
#else
#  include <pthread.h>
#  include <stdatomic.h>
#  include <time.h>
uint64_t fi_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
typedef pthread_t fi_thread;
/* Lock-free, so that a fork() while another thread sits in here cannot leave the child a
 * held lock; the child also starts with no helpers of its own (none of the parent's
 * threads exist in it). */
static atomic_int helpers_busy = 0;
static atomic_int helper_budget = 64;
static atomic_int atfork_registered = 0;
static void reset_in_child(void) { atomic_store(&helpers_busy, 0); }
static int claim_helper(void)
{
    if (!atomic_load(&atfork_registered) && !atomic_exchange(&atfork_registered, 1))
        pthread_atfork(NULL, NULL, reset_in_child);
    if (atomic_fetch_add(&helpers_busy, 1) < atomic_load(&helper_budget)) return 1;
    atomic_fetch_sub(&helpers_busy, 1);
    return 0;
}
static void release_helper(void) { atomic_fetch_sub(&helpers_busy, 1); }
void fi_set_helper_budget(int helpers) { atomic_store(&helper_budget, helpers < 0 ? 0 : helpers); }
void fi_flag_raise(fi_flag *flag) { atomic_store_explicit(flag, 1, memory_order_relaxed); }
int fi_flag_is_raised(fi_flag *flag) { return atomic_load_explicit(flag, memory_order_relaxed); }
#endif

typedef struct {
    fi_part_fn fn;
    void *ctx;
    int part, nparts;
} part_task;

#if defined(_WIN32)
static DWORD WINAPI run_task(LPVOID arg)
{
    part_task *t = (part_task *)arg;
    t->fn(t->ctx, t->part, t->nparts, 0);
    return 0;
}
static int start_thread(fi_thread *th, part_task *t)
{
    *th = CreateThread(NULL, 0, run_task, t, 0, NULL);
    return *th != NULL;
}
static void join_thread(fi_thread th) { WaitForSingleObject(th, INFINITE); CloseHandle(th); }
#else
static void *run_task(void *arg)
{
    part_task *t = (part_task *)arg;
    t->fn(t->ctx, t->part, t->nparts, 0);
    return NULL;
}
static int start_thread(fi_thread *th, part_task *t)
{
    return pthread_create(th, NULL, run_task, t) == 0;
}
static void join_thread(fi_thread th) { pthread_join(th, NULL); }
#endif

/* One helper's thread and task: on the heap, never on the caller's stack. */
typedef struct {
    fi_thread thread;
    part_task task;
    int started;
} helper_slot;

void fi_run_parts(int nparts, fi_part_fn fn, void *ctx)
{
    helper_slot *slots = nparts > 1 ? (helper_slot *)calloc((size_t)nparts, sizeof *slots) : NULL;
    if (!slots) {   /* one part, or no memory for the slots: every part on the caller */
        for (int p = 0; p < nparts; p++) fn(ctx, p, nparts, 1);
        return;
    }
    for (int p = 1; p < nparts; p++) {
        helper_slot *h = &slots[p];
        h->task.fn = fn; h->task.ctx = ctx; h->task.part = p; h->task.nparts = nparts;
        h->started = claim_helper();
        if (h->started && !start_thread(&h->thread, &h->task)) {
            release_helper();
            h->started = 0;
        }
    }
    fn(ctx, 0, nparts, 1);
    for (int p = 1; p < nparts; p++) {
        if (slots[p].started) {
            join_thread(slots[p].thread);
            release_helper();
        } else {
            fn(ctx, p, nparts, 1);
        }
    }
    free(slots);
}
