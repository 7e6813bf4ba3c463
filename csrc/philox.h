/* Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3" (SC'11), exactly as Random123's
 * philox.h defines it (constants below are Random123's PHILOX_M4x32_* and PHILOX_W32_*).
 *
 * The fastinit stream for a key (k0, k1) is the concatenation of the blocks
 * philox4x32_10(counter = b, key) for b = 0, 1, 2, ...; the 128-bit counter b is held as
 * little-endian 32-bit words c0..c3 (c0 least significant) and each block yields 4 words
 * x0..x3 in that order.  docs/stream.md states how those words become array elements. */
#ifndef FASTINIT_PHILOX_H
#define FASTINIT_PHILOX_H

#include <stdint.h>

#define FI_PHILOX_M0 UINT32_C(0xD2511F53)
#define FI_PHILOX_M1 UINT32_C(0xCD9E8D57)
#define FI_PHILOX_W0 UINT32_C(0x9E3779B9) /* golden ratio */
#define FI_PHILOX_W1 UINT32_C(0xBB67AE85) /* sqrt(3) - 1 */
#define FI_PHILOX_ROUNDS 10

static inline void fi_philox4x32_round(uint32_t x[4], uint32_t k0, uint32_t k1)
{
    uint64_t p0 = (uint64_t)FI_PHILOX_M0 * x[0];
    uint64_t p1 = (uint64_t)FI_PHILOX_M1 * x[2];
    uint32_t y0 = (uint32_t)(p1 >> 32) ^ x[1] ^ k0;
    uint32_t y1 = (uint32_t)p1;
    uint32_t y2 = (uint32_t)(p0 >> 32) ^ x[3] ^ k1;
    uint32_t y3 = (uint32_t)p0;
    x[0] = y0; x[1] = y1; x[2] = y2; x[3] = y3;
}

/* One block: out = Philox4x32-R(ctr, key), R rounds (10 for the fastinit stream; the KAT
 * vectors also cover 7). */
static inline void fi_philox4x32_r(int rounds, const uint32_t ctr[4], const uint32_t key[2],
                                   uint32_t out[4])
{
    uint32_t x[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < rounds; r++) {
        if (r > 0) { k0 += FI_PHILOX_W0; k1 += FI_PHILOX_W1; }
        fi_philox4x32_round(x, k0, k1);
    }
    out[0] = x[0]; out[1] = x[1]; out[2] = x[2]; out[3] = x[3];
}

#endif
