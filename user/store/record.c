/* Sealing and opening store records (layout in record.h): AES-256-GCM with
 * a random nonce per record, or CRC-32 for unencrypted stores, both over
 * an AAD that binds the record to its database, LMDB key and key id. */
#include "store/record.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <zlib.h>

#define AAD_LABEL "moat-store-1"

static int hkdf(const uint8_t *ikm, const char *info, uint8_t *out, size_t outlen)
{
    EVP_PKEY_CTX *p = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    size_t n = outlen;
    int ok = p && EVP_PKEY_derive_init(p) > 0 &&
             EVP_PKEY_CTX_set_hkdf_md(p, EVP_sha256()) > 0 &&
             EVP_PKEY_CTX_set1_hkdf_salt(p, (const unsigned char *)AAD_LABEL, sizeof AAD_LABEL - 1) > 0 &&
             EVP_PKEY_CTX_set1_hkdf_key(p, ikm, STORE_KEY_LEN) > 0 &&
             EVP_PKEY_CTX_add1_hkdf_info(p, (const unsigned char *)info, (int)strlen(info)) > 0 &&
             EVP_PKEY_derive(p, out, &n) > 0 && n == outlen;
    EVP_PKEY_CTX_free(p);
    return ok ? 0 : -1;
}

int rec_key_init(struct rec_key *k, const uint8_t *raw, char *err, size_t errlen)
{
    memset(k, 0, sizeof *k);
    if (!raw)
        return 0;     /* plain: mac subkey all zero, lookup keys still hashed */
    uint8_t id[4];
    if (hkdf(raw, "moat store aes-256-gcm", k->enc, sizeof k->enc) < 0 ||
        hkdf(raw, "moat store hmac-sha256", k->mac, sizeof k->mac) < 0 ||
        hkdf(raw, "moat store key id", id, sizeof id) < 0) {
        snprintf(err, errlen, "HKDF-SHA256 key derivation failed (OpenSSL)");
        rec_key_wipe(k);
        return -1;
    }
    k->encrypted = true;
    k->key_id = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
    if (!k->key_id)
        k->key_id = 1;            /* 0 means "plain" in the header */
    return 0;
}

void rec_key_wipe(struct rec_key *k)
{
    OPENSSL_cleanse(k, sizeof *k);
}

void rec_hash(const struct rec_key *k, const void *data, size_t len, uint8_t out[REC_HASH_LEN])
{
    unsigned int n = REC_HASH_LEN;
    static const uint8_t empty = 0;
    HMAC(EVP_sha256(), k->mac, sizeof k->mac, len ? data : &empty, len, out, &n);
}

size_t rec_sealed_len(const struct rec_key *k, size_t len)
{
    return k->encrypted ? REC_HDR + REC_NONCE + len + REC_TAG : REC_HDR + 4 + len;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The AAD is fed in pieces (no buffer, so no length limit beyond LMDB's). */
static int gcm_aad(EVP_CIPHER_CTX *c, const char *db, const void *lkey, size_t lklen, uint32_t key_id)
{
    int n;
    uint8_t id[4];
    put32(id, key_id);
    static const uint8_t zero = 0;
    return EVP_CipherUpdate(c, NULL, &n, (const uint8_t *)AAD_LABEL, sizeof AAD_LABEL - 1) > 0 &&
           EVP_CipherUpdate(c, NULL, &n, (const uint8_t *)db, (int)strlen(db)) > 0 &&
           EVP_CipherUpdate(c, NULL, &n, &zero, 1) > 0 &&
           (!lklen || EVP_CipherUpdate(c, NULL, &n, lkey, (int)lklen) > 0) &&
           EVP_CipherUpdate(c, NULL, &n, id, 4) > 0 ? 0 : -1;
}

static uint32_t crc_aad(const char *db, const void *lkey, size_t lklen, const void *data, size_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, (const Bytef *)AAD_LABEL, sizeof AAD_LABEL - 1);
    c = crc32(c, (const Bytef *)db, (uInt)strlen(db) + 1);   /* with the NUL, as the AAD */
    if (lklen)
        c = crc32(c, lkey, (uInt)lklen);
    static const uint8_t id0[4];
    c = crc32(c, id0, 4);
    if (len)
        c = crc32(c, data, (uInt)len);
    return (uint32_t)c;
}

int rec_seal(const struct rec_key *k, const char *db, const void *lkey, size_t lklen,
             const void *data, size_t len, uint8_t *out, char *err, size_t errlen)
{
    out[0] = REC_VERSION;
    out[1] = k->encrypted ? REC_ALG_GCM : REC_ALG_PLAIN;
    put32(out + 2, k->key_id);
    if (!k->encrypted) {
        put32(out + REC_HDR, crc_aad(db, lkey, lklen, data, len));
        if (len)
            memcpy(out + REC_HDR + 4, data, len);
        return 0;
    }
    if (len > 0x7fffffffu) {
        snprintf(err, errlen, "record of %zu bytes too large", len);
        return -1;
    }
    uint8_t *nonce = out + REC_HDR, *ct = nonce + REC_NONCE;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, ok = c && RAND_bytes(nonce, REC_NONCE) > 0 &&
        EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, k->enc, nonce) > 0 &&
        gcm_aad(c, db, lkey, lklen, k->key_id) == 0 &&
        (!len || EVP_EncryptUpdate(c, ct, &n, data, (int)len) > 0) &&
        EVP_EncryptFinal_ex(c, ct + n, &n) > 0 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, REC_TAG, ct + len) > 0;
    EVP_CIPHER_CTX_free(c);
    if (!ok)
        snprintf(err, errlen, "AES-256-GCM encryption failed (OpenSSL)");
    return ok ? 0 : -1;
}

int rec_peek_key_id(const uint8_t *rec, size_t rlen, uint32_t *key_id)
{
    if (rlen < REC_HDR)
        return -1;
    *key_id = get32(rec + 2);
    return 0;
}

int rec_open(const struct rec_key *k, const char *db, const void *lkey, size_t lklen,
             const uint8_t *rec, size_t rlen, uint8_t *buf,
             const uint8_t **data, size_t *len, char *err, size_t errlen)
{
    if (rlen < REC_HDR) {
        snprintf(err, errlen, "truncated record (%zu bytes, header needs %d)", rlen, REC_HDR);
        return -1;
    }
    if (rec[0] != REC_VERSION) {
        snprintf(err, errlen, "unknown record version %u", rec[0]);
        return -1;
    }
    uint32_t id = get32(rec + 2);
    if (rec[1] == REC_ALG_PLAIN) {
        if (k->encrypted) {
            snprintf(err, errlen, "unencrypted record in a store opened with a key");
            return -1;
        }
        if (id) {
            snprintf(err, errlen, "unencrypted record with key id %08x (damaged)", id);
            return -1;
        }
        if (rlen < REC_HDR + 4) {
            snprintf(err, errlen, "truncated record (%zu bytes)", rlen);
            return -1;
        }
        *data = rec + REC_HDR + 4;
        *len = rlen - REC_HDR - 4;
        if (crc_aad(db, lkey, lklen, *data, *len) != get32(rec + REC_HDR)) {
            snprintf(err, errlen, "checksum mismatch (corrupted, or moved from another place)");
            return -1;
        }
        return 0;
    }
    if (rec[1] != REC_ALG_GCM) {
        snprintf(err, errlen, "unknown record algorithm %u", rec[1]);
        return -1;
    }
    if (!k->encrypted) {
        snprintf(err, errlen, "encrypted record (key id %08x) but no persistence_key_file given", id);
        return -1;
    }
    if (id != k->key_id) {
        snprintf(err, errlen, "record written with key id %08x, the key file has key id %08x (wrong key)",
                 id, k->key_id);
        return -1;
    }
    if (rlen < REC_HDR + REC_NONCE + REC_TAG || rlen - REC_HDR - REC_NONCE - REC_TAG > 0x7fffffffu) {
        snprintf(err, errlen, "truncated record (%zu bytes)", rlen);
        return -1;
    }
    size_t clen = rlen - REC_HDR - REC_NONCE - REC_TAG;
    const uint8_t *nonce = rec + REC_HDR, *ct = nonce + REC_NONCE;
    uint8_t tag[REC_TAG];
    memcpy(tag, ct + clen, REC_TAG);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, n2 = 0;
    int ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, k->enc, nonce) > 0 &&
        gcm_aad(c, db, lkey, lklen, id) == 0 &&
        (!clen || EVP_DecryptUpdate(c, buf, &n, ct, (int)clen) > 0) &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, REC_TAG, tag) > 0 &&
        EVP_DecryptFinal_ex(c, buf + n, &n2) > 0;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        snprintf(err, errlen, "authentication failed (tampered, or moved from another place)");
        return -1;
    }
    *data = buf;
    *len = clen;
    return 0;
}
