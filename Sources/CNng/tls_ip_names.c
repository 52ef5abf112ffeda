/*
 * tls_ip_names.c - checking a server's certificate against an IP address.
 *
 * Gateways often reach a local receiver by address: https://192.168.1.10/.
 * Its certificate then names that address in an iPAddress subjectAltName.
 * mbedtls 2.28, which Debian's libnng uses, compares a server name only
 * with the certificate's DNS names (and CN), so such a certificate never
 * verified: every attempt failed with "Cryptographic error".
 *
 * nng lets a TLS engine be plugged in (nng_tls_engine_register). This file
 * registers one that is nng's own mbedtls engine, unchanged, except for a
 * server name that is an IP address:
 *   - it is not handed to mbedtls, so it is neither sent as SNI (RFC 6066
 *     forbids addresses there) nor compared with the DNS names;
 *   - each connection gets a verify callback (mbedtls_ssl_set_verify) that,
 *     for the server's own certificate, sets MBEDTLS_X509_BADCERT_CN_MISMATCH
 *     unless an iPAddress subjectAltName equals the address (RFC 6125 6.2.1;
 *     never the CN). The chain is verified by mbedtls as before, so with
 *     NNG_TLS_AUTH_MODE_REQUIRED a mismatch fails the handshake.
 *
 * The engine being wrapped is found through a TLS configuration nng made
 * (nng 1.5's struct nng_tls_config starts with a copy of its engine's
 * configuration operations, then the engine). The connection's mbedtls
 * context is found in nng 1.5's struct of its mbedtls engine. Neither
 * layout is public, so each is checked before it is used: the copied
 * operations must equal the engine's, the engine must be nng's "mbed" one,
 * and each connection's parent pointer and mbedtls configuration pointer
 * must be the ones nng passed. When a check fails nothing is wrapped, and
 * the engine says so when a URL needs it (Endpoint).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <string.h>

#pragma GCC visibility push(hidden)
#include "cnng.h"
#include <mbedtls/asn1.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <nng/supplemental/tls/engine.h>

/* The start of nng 1.5's struct nng_tls_config (src/supplemental/tls/tls_common.c). */
struct nng15_tls_config {
    nng_tls_engine_config_ops ops;
    const nng_tls_engine *engine;
};

/* nng 1.5's struct nng_tls_engine_conn of the mbedtls engine
 * (src/supplemental/tls/mbedtls/tls.c); its config starts with the
 * mbedtls_ssl_config. */
struct nng15_mbed_conn {
    void *tls;
    mbedtls_ssl_context ctx;
};

/* What the wrapper keeps after the mbedtls engine's configuration. */
struct ip_name {
    size_t length; /* 4 or 16; 0: the server name is not an address */
    unsigned char address[16];
};

#define ALIGNED(n) (((n) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1))

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
/* The engine wrapped, and the wrapper: rebuilt by each install into a newly
 * loaded libnng (after fork, a fresh copy). */
static const nng_tls_engine *mbed;
static size_t ip_offset;
static nng_tls_engine_config_ops config_ops;
static nng_tls_engine_conn_ops conn_ops;
static nng_tls_engine wrapper;
static int active;

static struct ip_name *
ip_of(nng_tls_engine_config *cfg)
{
    return (struct ip_name *) ((char *) cfg + ip_offset);
}

/* Whether the certificate has an iPAddress subjectAltName equal to `ip`.
 * mbedtls 2.28 keeps only DNS and other names in subject_alt_names, so the
 * extension is read from the raw extensions (crt->v3_ext: the Extensions
 * SEQUENCE, its [3] tag already taken). */
static bool
certificate_names(const mbedtls_x509_crt *crt, const struct ip_name *ip)
{
    static const unsigned char san_oid[] = {0x55, 0x1D, 0x11}; /* 2.5.29.17 */
    unsigned char *p = crt->v3_ext.p;
    const unsigned char *end;
    size_t len;

    if (p == NULL || mbedtls_asn1_get_tag(&p, crt->v3_ext.p + crt->v3_ext.len, &len,
                         MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return false;
    }
    end = p + len;
    while (p < end) {
        /* Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
        const unsigned char *extension_end;
        int critical;
        if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
            return false;
        }
        extension_end = p + len;
        if (mbedtls_asn1_get_tag(&p, extension_end, &len, MBEDTLS_ASN1_OID) != 0) {
            return false;
        }
        bool is_san = len == sizeof san_oid && memcmp(p, san_oid, len) == 0;
        p += len;
        (void) mbedtls_asn1_get_bool(&p, extension_end, &critical); /* optional */
        if (mbedtls_asn1_get_tag(&p, extension_end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0) {
            return false;
        }
        if (!is_san) {
            p = (unsigned char *) extension_end;
            continue;
        }
        /* GeneralNames ::= SEQUENCE OF GeneralName; iPAddress is [7] IMPLICIT OCTET STRING. */
        if (mbedtls_asn1_get_tag(&p, extension_end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
            return false;
        }
        const unsigned char *names_end = p + len;
        while (p < names_end) {
            unsigned char tag = *p++;
            if (mbedtls_asn1_get_len(&p, names_end, &len) != 0) {
                return false;
            }
            if (tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && len == ip->length && memcmp(p, ip->address, len) == 0) {
                return true;
            }
            p += len;
        }
        return false;
    }
    return false;
}

/* mbedtls' verify callback, for each certificate of the chain. */
static int
verify_ip(void *data, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    if (depth == 0 && !certificate_names(crt, data)) {
        *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    }
    return 0;
}

static int
wrapped_server(nng_tls_engine_config *cfg, const char *name)
{
    struct ip_name *ip = ip_of(cfg);
    unsigned char address[16];
    if (inet_pton(AF_INET, name, address) == 1) {
        ip->length = 4;
    } else if (inet_pton(AF_INET6, name, address) == 1) {
        ip->length = 16;
    } else {
        ip->length = 0;
        return mbed->config_ops->server(cfg, name);
    }
    memcpy(ip->address, address, ip->length);
    return 0;
}

static int
wrapped_conn_init(nng_tls_engine_conn *conn, void *tls, nng_tls_engine_config *cfg)
{
    int rv = mbed->conn_ops->init(conn, tls, cfg);
    struct ip_name *ip = ip_of(cfg);
    if (rv != 0 || ip->length == 0) {
        return rv;
    }
    struct nng15_mbed_conn *mc = (struct nng15_mbed_conn *) conn;
    if (mc->tls != tls || mc->ctx.conf != (const mbedtls_ssl_config *) cfg) {
        return NNG_ENOTSUP; /* not the layout checked for: never connect unchecked */
    }
    mbedtls_ssl_set_verify(&mc->ctx, verify_ip, ip);
    return 0;
}

int
cnng_tls_ip_names_install(void)
{
    nng_tls_config *probe;
    int result = -1;

    pthread_mutex_lock(&install_lock);
    if (nng_tls_config_alloc(&probe, NNG_TLS_MODE_CLIENT) != 0) {
        active = 0;
        pthread_mutex_unlock(&install_lock);
        return -1;
    }
    const struct nng15_tls_config *config = (const struct nng15_tls_config *) probe;
    const nng_tls_engine *engine = config->engine;
    if (engine == &wrapper) {
        result = 0; /* this libnng has it already */
    } else if (engine != NULL && engine->version == NNG_TLS_ENGINE_V1 && engine->name != NULL &&
               strcmp(engine->name, "mbed") == 0 && memcmp(&config->ops, engine->config_ops, sizeof config->ops) == 0) {
        mbed = engine;
        ip_offset = ALIGNED(engine->config_ops->size);
        config_ops = *engine->config_ops;
        config_ops.size = ip_offset + sizeof(struct ip_name);
        config_ops.server = wrapped_server;
        conn_ops = *engine->conn_ops;
        conn_ops.init = wrapped_conn_init;
        wrapper = *engine;
        wrapper.config_ops = &config_ops;
        wrapper.conn_ops = &conn_ops;
        wrapper.name = "mbed+ip-names";
        result = nng_tls_engine_register(&wrapper) == 0 ? 0 : -1;
    }
    nng_tls_config_free(probe);
    active = result == 0;
    pthread_mutex_unlock(&install_lock);
    return result;
}

int
cnng_tls_ip_names_active(void)
{
    pthread_mutex_lock(&install_lock);
    int result = active;
    pthread_mutex_unlock(&install_lock);
    return result;
}

#pragma GCC visibility pop
