/* Record format of the persistent store: every LMDB value is a sealed
 * record. Layout (all integers big-endian):
 *
 *   0      version (1)
 *   1      algorithm: 0 = plain + CRC-32, 1 = AES-256-GCM
 *   2..5   key id (0 for plain)
 *   plain: 6..9 CRC-32 of (AAD || data), 10.. data
 *   GCM:   6..17 nonce (random), 18..n-17 ciphertext, last 16 bytes tag
 *
 * AAD = "moat-store-1" || DB name || 0x00 || LMDB key bytes || key id, so a
 * record only opens in the database and under the LMDB key it was written
 * for, and under the key it names. Lookup keys that would carry a topic name
 * or a client id are a keyed hash (HMAC-SHA256 with a subkey derived by HKDF
 * from the store key; a fixed all-zero key when the store is not encrypted). */
#ifndef MOAT_STORE_RECORD_H
#define MOAT_STORE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REC_VERSION     1
#define REC_ALG_PLAIN   0
#define REC_ALG_GCM     1
#define REC_HDR         6
#define REC_NONCE       12
#define REC_TAG         16
#define REC_OVERHEAD    (REC_HDR + REC_NONCE + REC_TAG)   /* worst case */
#define REC_HASH_LEN    32
#define STORE_KEY_LEN   32

/* Key material of one store key (or of "no encryption"). */
struct rec_key {
    bool     encrypted;
    uint32_t key_id;                 /* 0 when not encrypted */
    uint8_t  enc[STORE_KEY_LEN];     /* AES-256-GCM subkey */
    uint8_t  mac[STORE_KEY_LEN];     /* HMAC-SHA256 subkey for lookup keys */
};

/* Derives the subkeys and key id of raw (32 bytes), or the plain context
 * when raw is NULL. 0, or -1 with a message in err (OpenSSL failure). */
int  rec_key_init(struct rec_key *k, const uint8_t *raw, char *err, size_t errlen);
void rec_key_wipe(struct rec_key *k);

/* Lookup key for a peer-chosen string (topic name, client id). */
void rec_hash(const struct rec_key *k, const void *data, size_t len, uint8_t out[REC_HASH_LEN]);

/* Bytes a sealed record of len plaintext bytes needs. */
size_t rec_sealed_len(const struct rec_key *k, size_t len);

/* Seals data for (db, lkey) into out (rec_sealed_len bytes). 0 or -1. */
int  rec_seal(const struct rec_key *k, const char *db, const void *lkey, size_t lklen,
              const void *data, size_t len, uint8_t *out, char *err, size_t errlen);

/* Opens a sealed record of rlen bytes read from (db, lkey). On success
 * returns 0 with *data / *len pointing at the plaintext: into rec itself
 * for plain records, into buf (at least rlen bytes) for encrypted ones.
 * On failure returns -1 with a message naming what failed (version,
 * algorithm, key id mismatch, length, authentication) in err. */
int  rec_open(const struct rec_key *k, const char *db, const void *lkey, size_t lklen,
              const uint8_t *rec, size_t rlen, uint8_t *buf,
              const uint8_t **data, size_t *len, char *err, size_t errlen);

/* Key id of a raw record (header only); -1 when shorter than the header. */
int  rec_peek_key_id(const uint8_t *rec, size_t rlen, uint32_t *key_id);

#endif
