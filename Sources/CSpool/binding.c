/*
 * binding.c - the spool's SQLite calls, bound to Debian's libsqlite3 and to
 * nothing else: a host may export its own SQLite (NanoMQ built with
 * -DNNG_ENABLE_SQLITE=ON and -rdynamic compiles NanoNNG's copy in and
 * exports it), of another version and configuration. See
 * Sources/CBinding/include/cbinding.h.
 */
#define _GNU_SOURCE
#include <stdio.h>

/* Everything declared and defined here stays inside the library. */
#pragma GCC visibility push(hidden)
#include "csqlite.h"

#define CBINDING_FUNCTIONS "sqlite_functions.h"
#define CBINDING_FILE CSQLITE_LIBRARY
#define CBINDING_PACKAGE "Debian's libsqlite3-0"
#define CBINDING_REQUIREMENT "the spool needs SQLite 3.8.2 or later"
#include "cbinding_table.h"

int
csqlite_load(char *err, size_t errlen)
{
    if (cbind_load(&binding, err, errlen) != 0) {
        return -1;
    }
    int version = sqlite3_libversion_number();
    if (version < CSQLITE_MINIMUM_VERSION) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "%s is SQLite %d.%d.%d; %s", CSQLITE_LIBRARY, version / 1000000,
                version / 1000 % 1000, version % 1000, CBINDING_REQUIREMENT);
        }
        return -1;
    }
    return 0;
}

#pragma GCC visibility pop
