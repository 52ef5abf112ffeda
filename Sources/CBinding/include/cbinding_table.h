/*
 * cbinding_table.h - a binding's table, its names and its forwarders, made
 * from its list of functions. Included once, by the binding's .c file,
 * after the headers that declare the functions and with hidden visibility
 * in effect:
 *
 *     #define CBINDING_FUNCTIONS "nng_functions.h"      (the list)
 *     #define CBINDING_FILE "libnng.so.1"               (see struct cbind_library)
 *     #define CBINDING_PACKAGE "Debian's libnng1"
 *     #define CBINDING_REQUIREMENT "libswiftwebhook needs nng 1.5 or later"
 *     #include "cbinding_table.h"
 *
 * which defines `static struct cbind_library binding`, for cbind_load().
 * The list has one line per function:
 *
 *     CBIND_FUNCTION(return type, name, (parameters), (arguments))
 *     CBIND_PROCEDURE(name, (parameters), (arguments))      -- returns void
 *
 * A forwarder is `ret name params { return ((ret (*) params) entry) args; }`:
 * a call through the pointer cast back to the function's own type.
 */
#include "cbinding.h"

enum {
#define CBIND_FUNCTION(ret, name, params, args) cbind_index_##name,
#define CBIND_PROCEDURE(name, params, args) cbind_index_##name,
#include CBINDING_FUNCTIONS
#undef CBIND_FUNCTION
#undef CBIND_PROCEDURE
    cbind_function_count
};

static const char *const cbind_names[] = {
#define CBIND_FUNCTION(ret, name, params, args) #name,
#define CBIND_PROCEDURE(name, params, args) #name,
#include CBINDING_FUNCTIONS
#undef CBIND_FUNCTION
#undef CBIND_PROCEDURE
};

static cbind_function cbind_table[cbind_function_count];

#define CBIND_FUNCTION(ret, name, params, args) \
    ret name params { return ((ret(*) params) cbind_table[cbind_index_##name]) args; }
#define CBIND_PROCEDURE(name, params, args) \
    void name params { ((void(*) params) cbind_table[cbind_index_##name]) args; }
#include CBINDING_FUNCTIONS
#undef CBIND_FUNCTION
#undef CBIND_PROCEDURE

static struct cbind_library binding = {
    .file = CBINDING_FILE,
    .package = CBINDING_PACKAGE,
    .requirement = CBINDING_REQUIREMENT,
    .names = cbind_names,
    .table = cbind_table,
    .count = cbind_function_count,
    .isolated = -1,
};
