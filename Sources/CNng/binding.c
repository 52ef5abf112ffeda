/*
 * binding.c - the engine's nng and mbedtls calls, bound to Debian's libnng
 * (and the mbedtls it loads) and to nothing else: NanoMQ built for plugins
 * exports its own nng fork (see Sources/CBinding/include/cbinding.h).
 */
#define _GNU_SOURCE
#include <stdio.h>

/* Everything declared and defined here stays inside the library. */
#pragma GCC visibility push(hidden)
#include "cnng.h"
#include <mbedtls/asn1.h>
#include <mbedtls/md.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <nng/supplemental/tls/engine.h>

#define CBINDING_FUNCTIONS "nng_functions.h"
#define CBINDING_FILE CNNG_LIBRARY
#define CBINDING_PACKAGE "Debian's libnng1"
#define CBINDING_REQUIREMENT "libswiftwebhook needs nng 1.5 or later, built with mbedtls"
#include "cbinding_table.h"

int
cnng_load(char *err, size_t errlen)
{
    if (cbind_load(&binding, err, errlen) != 0) {
        return -1;
    }
    /* The engine allocates mbedtls_md_context_t as these headers lay it
     * out; another major version lays it out differently. */
    unsigned int major = mbedtls_version_get_number() >> 24;
    if (major != MBEDTLS_VERSION_MAJOR) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "%s loads mbedtls %u, but libswiftwebhook was built for mbedtls %d",
                CNNG_LIBRARY, major, MBEDTLS_VERSION_MAJOR);
        }
        return -1;
    }
    /* Certificates for an IP address are checked against its iPAddress
     * names; never in a host's own nng, whose TLS is the host's affair. */
    if (!binding.shared) {
        cnng_tls_ip_names_install();
    }
    return 0;
}

int
cnng_isolated(void)
{
    return binding.isolated;
}

int
cnng_shared_with_host(void)
{
    return binding.shared;
}

#pragma GCC visibility pop
