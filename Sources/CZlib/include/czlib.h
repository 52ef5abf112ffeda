/*
 * czlib.h - the parts of zlib the engine uses (gzip request bodies,
 * `compression = gzip`), bound to Debian's libz at run time (see
 * binding.c for why, and Sources/CBinding/include/cbinding.h).
 *
 * The engine calls deflate* by their usual names; those names resolve to
 * private forwarders inside the library, never to a zlib the host process
 * exports. czlib_load() must have succeeded before the first call.
 */
#ifndef SWIFTWEBHOOK_CZLIB_H
#define SWIFTWEBHOOK_CZLIB_H

#include <stddef.h>
#include <zlib.h>

/* The shared object loaded: Debian's zlib1g package, whose SONAME this is. */
#define CZLIB_LIBRARY "libz.so.1"

/*
 * Loads CZLIB_LIBRARY and resolves every function the engine calls, once per
 * process (a fresh copy after fork()). Returns 0, or -1 with the reason in
 * err (always NUL-terminated when errlen > 0).
 */
int czlib_load(char *err, size_t errlen);

/*
 * deflateInit2() is a macro that passes the header's version and the
 * z_stream's size, which Swift cannot import: a gzip stream (window bits
 * 15 + 16) at `level`, zlib's default memory level.
 */
static inline int czlib_gzip_init(z_stream *stream, int level) {
    return deflateInit2_(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, (int)sizeof(z_stream));
}

#endif
