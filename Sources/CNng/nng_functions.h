/*
 * Every nng function the engine calls, once: binding.c turns this list into
 * the table of resolved addresses and into the forwarders the engine links
 * against. A new nng call in the engine needs a line here (the link fails
 * with an undefined nng_* symbol otherwise).
 *
 *   CNNG_FUNCTION(return type, name, (parameters), (arguments))
 *   CNNG_PROCEDURE(name, (parameters), (arguments))       -- returns void
 */
CNNG_FUNCTION(int, nng_aio_alloc, (nng_aio **a, void (*cb)(void *), void *arg), (a, cb, arg))
CNNG_PROCEDURE(nng_aio_free, (nng_aio *a), (a))
CNNG_PROCEDURE(nng_aio_stop, (nng_aio *a), (a))
CNNG_PROCEDURE(nng_aio_cancel, (nng_aio *a), (a))
CNNG_FUNCTION(int, nng_aio_result, (nng_aio *a), (a))
CNNG_FUNCTION(void *, nng_aio_get_output, (nng_aio *a, unsigned i), (a, i))
CNNG_PROCEDURE(nng_aio_set_timeout, (nng_aio *a, nng_duration d), (a, d))
CNNG_FUNCTION(int, nng_aio_set_iov, (nng_aio *a, unsigned n, const nng_iov *v), (a, n, v))
CNNG_FUNCTION(size_t, nng_aio_count, (nng_aio *a), (a))
CNNG_FUNCTION(bool, nng_aio_begin, (nng_aio *a), (a))
CNNG_PROCEDURE(nng_aio_finish, (nng_aio *a, int rv), (a, rv))
CNNG_PROCEDURE(nng_sleep_aio, (nng_duration d, nng_aio *a), (d, a))
CNNG_FUNCTION(const char *, nng_strerror, (int rv), (rv))
CNNG_FUNCTION(int, nng_url_parse, (nng_url **u, const char *s), (u, s))
CNNG_PROCEDURE(nng_url_free, (nng_url *u), (u))
CNNG_FUNCTION(int, nng_http_client_alloc, (nng_http_client **c, const nng_url *u), (c, u))
CNNG_PROCEDURE(nng_http_client_free, (nng_http_client *c), (c))
CNNG_FUNCTION(int, nng_http_client_set_tls, (nng_http_client *c, struct nng_tls_config *t), (c, t))
CNNG_PROCEDURE(nng_http_client_connect, (nng_http_client *c, nng_aio *a), (c, a))
CNNG_PROCEDURE(nng_http_conn_write_all, (nng_http_conn *c, nng_aio *a), (c, a))
CNNG_PROCEDURE(nng_http_conn_read_res, (nng_http_conn *c, nng_http_res *r, nng_aio *a), (c, r, a))
CNNG_PROCEDURE(nng_http_conn_read, (nng_http_conn *c, nng_aio *a), (c, a))
CNNG_PROCEDURE(nng_http_conn_close, (nng_http_conn *c), (c))
CNNG_FUNCTION(int, nng_http_res_alloc, (nng_http_res **r), (r))
CNNG_PROCEDURE(nng_http_res_free, (nng_http_res *r), (r))
CNNG_PROCEDURE(nng_http_res_reset, (nng_http_res *r), (r))
CNNG_FUNCTION(uint16_t, nng_http_res_get_status, (nng_http_res *r), (r))
CNNG_FUNCTION(const char *, nng_http_res_get_version, (nng_http_res *r), (r))
CNNG_FUNCTION(const char *, nng_http_res_get_header, (nng_http_res *r, const char *k), (r, k))
CNNG_FUNCTION(int, nng_tls_config_alloc, (nng_tls_config **t, nng_tls_mode m), (t, m))
CNNG_PROCEDURE(nng_tls_config_free, (nng_tls_config *t), (t))
CNNG_FUNCTION(int, nng_tls_config_server_name, (nng_tls_config *t, const char *n), (t, n))
CNNG_FUNCTION(int, nng_tls_config_ca_file, (nng_tls_config *t, const char *f), (t, f))
CNNG_FUNCTION(int, nng_tls_config_own_cert, (nng_tls_config *t, const char *c, const char *k, const char *p), (t, c, k, p))
CNNG_FUNCTION(int, nng_tls_config_auth_mode, (nng_tls_config *t, nng_tls_auth_mode m), (t, m))
