/* Client certificate -> MQTT username, as mosquitto does it:
 * use_identity_as_username takes the subject CN, use_subject_as_username
 * the whole subject in RFC 2253 form. Only a verified certificate counts. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include "config.h"
#include "tls/tls_internal.h"

#define IDENTITY_MAX 1024   /* bounded: the string is kept per connection */

static char *subject_cn(X509_NAME *n)
{
    int i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
    if (i < 0)
        return NULL;
    ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
    unsigned char *utf8 = NULL;
    int len = ASN1_STRING_to_UTF8(&utf8, d);
    if (len <= 0 || len > IDENTITY_MAX || memchr(utf8, 0, (size_t)len)) {
        /* An embedded NUL would let "admin\0.evil" pass as "admin". */
        OPENSSL_free(utf8);
        return NULL;
    }
    char *s = malloc((size_t)len + 1);
    if (s) {
        memcpy(s, utf8, (size_t)len);
        s[len] = '\0';
    }
    OPENSSL_free(utf8);
    return s;
}

static char *subject_rfc2253(X509_NAME *n)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return NULL;
    char *s = NULL;
    if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
        char *p;
        long len = BIO_get_mem_data(b, &p);
        if (len > 0 && len <= IDENTITY_MAX && !memchr(p, 0, (size_t)len) &&
            (s = malloc((size_t)len + 1))) {
            memcpy(s, p, (size_t)len);
            s[len] = '\0';
        }
    }
    BIO_free(b);
    return s;
}

char *tls_identity_of(SSL *ssl, const struct listener_conf *lc)
{
    if (!lc->use_identity_as_username && !lc->use_subject_as_username)
        return NULL;
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (!cert)
        return NULL;
    char *id = NULL;
    if (SSL_get_verify_result(ssl) == X509_V_OK) {
        X509_NAME *n = X509_get_subject_name(cert);
        id = lc->use_subject_as_username ? subject_rfc2253(n) : subject_cn(n);
    }
    X509_free(cert);
    return id;
}
