// The parts of nng the delivery engine uses. Debian's libnng-dev ships no
// pkg-config file, so the module map links `nng` by name.
#ifndef SWIFTWEBHOOK_CNNG_SHIM_H
#define SWIFTWEBHOOK_CNNG_SHIM_H
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>
#endif
