/*
 * Every function the engine calls from libnng.so.1 and from the mbedtls it
 * loads, once: binding.c turns this list into the table of resolved
 * addresses and into the forwarders the engine links against
 * (Sources/CBinding/include/cbinding_table.h). A new call in the engine
 * needs a line here (the link fails with an undefined symbol otherwise).
 *
 *   CBIND_FUNCTION(return type, name, (parameters), (arguments))
 *   CBIND_PROCEDURE(name, (parameters), (arguments))       -- returns void
 *
 * nng first: after a fork, the file of the first entry is the one copied.
 */
CBIND_FUNCTION(int, nng_aio_alloc, (nng_aio **a, void (*cb)(void *), void *arg), (a, cb, arg))
CBIND_PROCEDURE(nng_aio_free, (nng_aio *a), (a))
CBIND_PROCEDURE(nng_aio_stop, (nng_aio *a), (a))
CBIND_PROCEDURE(nng_aio_cancel, (nng_aio *a), (a))
CBIND_FUNCTION(int, nng_aio_result, (nng_aio *a), (a))
CBIND_FUNCTION(void *, nng_aio_get_output, (nng_aio *a, unsigned i), (a, i))
CBIND_FUNCTION(int, nng_aio_set_iov, (nng_aio *a, unsigned n, const nng_iov *v), (a, n, v))
CBIND_FUNCTION(size_t, nng_aio_count, (nng_aio *a), (a))
CBIND_FUNCTION(bool, nng_aio_begin, (nng_aio *a), (a))
CBIND_PROCEDURE(nng_aio_finish, (nng_aio *a, int rv), (a, rv))
CBIND_FUNCTION(const char *, nng_strerror, (int rv), (rv))
CBIND_FUNCTION(int, nng_url_parse, (nng_url **u, const char *s), (u, s))
CBIND_PROCEDURE(nng_url_free, (nng_url *u), (u))
CBIND_FUNCTION(int, nng_stream_dialer_alloc_url, (nng_stream_dialer **d, const nng_url *u), (d, u))
CBIND_PROCEDURE(nng_stream_dialer_free, (nng_stream_dialer *d), (d))
CBIND_FUNCTION(int, nng_stream_dialer_set_ptr, (nng_stream_dialer *d, const char *n, void *p), (d, n, p))
CBIND_PROCEDURE(nng_stream_dialer_dial, (nng_stream_dialer *d, nng_aio *a), (d, a))
CBIND_PROCEDURE(nng_stream_send, (nng_stream *s, nng_aio *a), (s, a))
CBIND_PROCEDURE(nng_stream_recv, (nng_stream *s, nng_aio *a), (s, a))
CBIND_PROCEDURE(nng_stream_close, (nng_stream *s), (s))
CBIND_PROCEDURE(nng_stream_free, (nng_stream *s), (s))
CBIND_FUNCTION(int, nng_tls_config_alloc, (nng_tls_config **t, nng_tls_mode m), (t, m))
CBIND_PROCEDURE(nng_tls_config_free, (nng_tls_config *t), (t))
CBIND_FUNCTION(int, nng_tls_config_server_name, (nng_tls_config *t, const char *n), (t, n))
CBIND_FUNCTION(int, nng_tls_config_ca_file, (nng_tls_config *t, const char *f), (t, f))
CBIND_FUNCTION(int, nng_tls_config_own_cert, (nng_tls_config *t, const char *c, const char *k, const char *p), (t, c, k, p))
CBIND_FUNCTION(int, nng_tls_config_auth_mode, (nng_tls_config *t, nng_tls_auth_mode m), (t, m))
CBIND_FUNCTION(int, nng_tls_engine_register, (const nng_tls_engine *e), (e))

/*
 * mbedtls' HMAC for signed webhooks, resolved through libnng's handle: the
 * libmbedcrypto Debian's libnng1 loads (and its TLS uses), never a copy the
 * host exports. binding.c checks its major version against the headers the
 * library was built with, whose mbedtls_md_context_t the engine allocates.
 */
CBIND_FUNCTION(unsigned int, mbedtls_version_get_number, (void), ())
CBIND_FUNCTION(const mbedtls_md_info_t *, mbedtls_md_info_from_type, (mbedtls_md_type_t t), (t))
CBIND_PROCEDURE(mbedtls_md_init, (mbedtls_md_context_t *c), (c))
CBIND_PROCEDURE(mbedtls_md_free, (mbedtls_md_context_t *c), (c))
CBIND_FUNCTION(int, mbedtls_md_setup, (mbedtls_md_context_t *c, const mbedtls_md_info_t *i, int hmac), (c, i, hmac))
CBIND_FUNCTION(int, mbedtls_md_clone, (mbedtls_md_context_t *d, const mbedtls_md_context_t *s), (d, s))
CBIND_FUNCTION(int, mbedtls_md_hmac_starts, (mbedtls_md_context_t *c, const unsigned char *k, size_t n), (c, k, n))
CBIND_FUNCTION(int, mbedtls_md_hmac_update, (mbedtls_md_context_t *c, const unsigned char *in, size_t n), (c, in, n))
CBIND_FUNCTION(int, mbedtls_md_hmac_finish, (mbedtls_md_context_t *c, unsigned char *out), (c, out))
/*
 * Checking a certificate against an IP address (tls_ip_names.c): a verify
 * callback on each TLS context, and the DER reader for the subjectAltName.
 */
CBIND_PROCEDURE(mbedtls_ssl_set_verify, (mbedtls_ssl_context *s, int (*f)(void *, mbedtls_x509_crt *, int, uint32_t *), void *p), (s, f, p))
CBIND_FUNCTION(int, mbedtls_asn1_get_tag, (unsigned char **p, const unsigned char *end, size_t *len, int tag), (p, end, len, tag))
CBIND_FUNCTION(int, mbedtls_asn1_get_len, (unsigned char **p, const unsigned char *end, size_t *len), (p, end, len))
CBIND_FUNCTION(int, mbedtls_asn1_get_bool, (unsigned char **p, const unsigned char *end, int *val), (p, end, val))
