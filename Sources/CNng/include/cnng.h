/*
 * cnng.h - the parts of nng (and of its mbedtls) the delivery engine
 * uses, bound to Debian's libnng at run time (see binding.c for why).
 *
 * The engine calls nng_* and mbedtls_md_* by their usual names; those
 * names resolve to private forwarders inside the library, never to what a
 * host process exports. cnng_load() must have succeeded before the first
 * call.
 */
#ifndef SWIFTWEBHOOK_CNNG_H
#define SWIFTWEBHOOK_CNNG_H

#include <stddef.h>
#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

/* The shared object loaded: Debian's libnng1 package, whose SONAME this is. */
#define CNNG_LIBRARY "libnng.so.1"

/*
 * Loads CNNG_LIBRARY and resolves every function the engine calls, once per
 * process (a fresh copy after fork()), and checks that its mbedtls is the
 * major version the library was built for. Returns 0, or -1 with the
 * reason in err (always NUL-terminated when errlen > 0).
 */
int cnng_load(char *err, size_t errlen);

/* 1 when libnng was loaded with its own symbols first (RTLD_DEEPBIND), 0 when
 * a sanitizer runtime forbade that, -1 before a successful cnng_load(). */
int cnng_isolated(void);

/* 1 when the host process had loaded CNNG_LIBRARY itself before the library
 * did, so nng's threads are shared with the host's own nng work. */
int cnng_shared_with_host(void);

/*
 * An https:// URL to an IP address (tls_ip_names.c). mbedtls 2.28, which
 * Debian's libnng uses, matches a server name only against the DNS names of
 * a certificate, so a certificate for 127.0.0.1 never verified. Installed
 * by cnng_load(): nng's mbedtls TLS engine, wrapped so that a server name
 * that is an IP address is checked against the certificate's iPAddress
 * subjectAltNames (RFC 6125, as curl does), and not sent as SNI (RFC 6066).
 * Returns 0 when active (also when it already was), -1 when it cannot be
 * (the host shares libnng, another TLS engine, an nng whose layout differs).
 */
int cnng_tls_ip_names_install(void);
/* 1 when the IP-address check is active in the loaded libnng. */
int cnng_tls_ip_names_active(void);

#endif
