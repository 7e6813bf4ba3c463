/* SHA-256 (FIPS 180-4) for the C tests: hashes of fills, comparable with Python's hashlib. */
#ifndef FASTINIT_TEST_SHA256_H
#define FASTINIT_TEST_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t bytes;
    unsigned char block[64];
    size_t used;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
/* 64 lowercase hex digits and a NUL */
void sha256_hex(sha256_ctx *c, char hex[65]);

#endif
