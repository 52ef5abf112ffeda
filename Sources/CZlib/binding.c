/*
 * binding.c - the engine's zlib calls (gzip request bodies), bound to
 * Debian's libz and to nothing else: a host may link its own zlib, of
 * another version (see Sources/CBinding/include/cbinding.h).
 */
#define _GNU_SOURCE
#include <stdio.h>

/* Everything declared and defined here stays inside the library. */
#pragma GCC visibility push(hidden)
#include "czlib.h"

#define CBINDING_FUNCTIONS "zlib_functions.h"
#define CBINDING_FILE CZLIB_LIBRARY
#define CBINDING_PACKAGE "Debian's zlib1g"
#define CBINDING_REQUIREMENT "compression = gzip needs zlib 1.2 or later"
#include "cbinding_table.h"

int
czlib_load(char *err, size_t errlen)
{
    return cbind_load(&binding, err, errlen);
}

#pragma GCC visibility pop
