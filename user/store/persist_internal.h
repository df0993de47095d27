/* Shared by persist.c (runtime) and persist_load.c (restore): the shadow
 * of each persistent session's entry list (store sequence number and body
 * id per position) and the map from live messages to stored bodies. */
#ifndef MOAT_STORE_PERSIST_INTERNAL_H
#define MOAT_STORE_PERSIST_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "store/record.h"

struct session;
struct msg;
struct store;

struct pbody;

struct pent {
    uint64_t seq;        /* 0: not stored (its unit was refused) */
    struct pbody *b;     /* NULL: none (QoS 2 past PUBREC, or not stored) */
};

struct pshadow {
    struct session *s;
    uint8_t   h[REC_HASH_LEN];    /* H(client id): key prefix */
    struct pent *v;
    uint32_t  n, cap;
    uint64_t  next_seq;
    bool      broken;    /* out of memory once: no longer mirrors the session */
    struct pshadow *next;
};

struct pbody {
    const struct msg *m;
    uint64_t id;
    uint32_t refs;               /* stored entries naming it */
    struct pbody *next;
};

/* Entries appended by the current unit: undone in memory if it fails. */
struct pjournal {
    struct pshadow *sh;
    uint64_t seq;
};

struct persist {
    struct store *st;
    struct pshadow **sh;   uint32_t sh_cap, n_sh;
    struct pbody   **bd;   uint32_t bd_cap, n_bd;
    uint64_t next_body;
    struct pjournal *jr;   uint32_t n_jr, cap_jr;
    uint64_t refused_logged;
    uint8_t *scratch;      size_t scratch_cap;
};

struct pshadow *pshadow_get(struct persist *p, const struct session *s);
struct pshadow *pshadow_add(struct persist *p, struct session *s);
int  pent_push(struct pshadow *sh, uint64_t seq, struct pbody *b);
struct pbody *pbody_find(struct persist *p, const struct msg *m);
struct pbody *pbody_add(struct persist *p, const struct msg *m, uint64_t id);

/* Keys and values. */
void pkey_entry(uint8_t k[REC_HASH_LEN + 8], const uint8_t h[REC_HASH_LEN], uint64_t seq);
void pkey_rx2(uint8_t k[REC_HASH_LEN + 2], const uint8_t h[REC_HASH_LEN], uint16_t pid);
void put64(uint8_t *p, uint64_t v);
uint64_t get64(const uint8_t *p);

/* Length-checked reader for record plaintexts. */
struct pcur {
    const uint8_t *p;
    size_t n;
    bool bad;
};
uint8_t  pcur_u8(struct pcur *c);
uint16_t pcur_u16(struct pcur *c);
uint32_t pcur_u32(struct pcur *c);
uint64_t pcur_u64(struct pcur *c);
const uint8_t *pcur_bytes(struct pcur *c, size_t n);

#endif
