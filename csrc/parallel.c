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
#else
#  include <pthread.h>
#  include <stdatomic.h>
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
    t->fn(t->ctx, t->part, t->nparts);
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
    t->fn(t->ctx, t->part, t->nparts);
    return NULL;
}
static int start_thread(fi_thread *th, part_task *t)
{
    return pthread_create(th, NULL, run_task, t) == 0;
}
static void join_thread(fi_thread th) { pthread_join(th, NULL); }
#endif

#define FI_MAX_PARTS 256

void fi_run_parts(int nparts, fi_part_fn fn, void *ctx)
{
    fi_thread threads[FI_MAX_PARTS];
    part_task tasks[FI_MAX_PARTS];
    int started[FI_MAX_PARTS];
    if (nparts > FI_MAX_PARTS) nparts = FI_MAX_PARTS;
    for (int p = 1; p < nparts; p++) {
        tasks[p].fn = fn; tasks[p].ctx = ctx; tasks[p].part = p; tasks[p].nparts = nparts;
        started[p] = claim_helper();
        if (started[p] && !start_thread(&threads[p], &tasks[p])) {
            release_helper();
            started[p] = 0;
        }
    }
    fn(ctx, 0, nparts);
    for (int p = 1; p < nparts; p++) {
        if (started[p]) {
            join_thread(threads[p]);
            release_helper();
        } else {
            fn(ctx, p, nparts);
        }
    }
}
