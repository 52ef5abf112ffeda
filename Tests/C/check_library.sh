#!/usr/bin/env bash
# The shipped .so: exports the webhook_* API and nothing else, and needs no
# Swift runtime on the host (only libc and friends; libnng.so.1 with its
# mbedtls, and libsqlite3.so.0 for the spool, are loaded at run time and
# bound to their own files: Sources/CBinding/include/cbinding.h).
set -euo pipefail
lib="$1"
runtime="${2:-embedded}"   # embedded (the shipped build) or full (the Swift runtime inside)
failed=0; passed=0
check() { if eval "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "check failed: $1"; fi; }

exports=$(nm -D --defined-only "$lib" | awk '$3 != "" {print $3}' | sed 's/@.*//' | sort -u)
echo "exported: $(echo $exports)"
check "only webhook_* (and nano_plugin_init) are exported" '! echo "$exports" | grep -v -e "^webhook_" -e "^nano_plugin_init$" -e "^SWIFTWEBHOOK_1$" -e "^SWIFTWEBHOOK_1\.3$" -e "^SWIFTWEBHOOK_1\.4$" | grep -q .'
check "nano_plugin_init is exported (NanoMQ's plugin loader gets a clear refusal)" 'echo "$exports" | grep -qx nano_plugin_init'
check "no nng_*, sqlite3_* or mbedtls_* symbol is imported or exported (bound at run time)" '! nm -D "$lib" | grep -Eq " (nng|sqlite3|mbedtls|psa)_"'
for f in webhook_init webhook_init_text webhook_emit webhook_wants webhook_fini webhook_get_stats webhook_get_metrics webhook_reload webhook_get_endpoint_stats webhook_set_log webhook_strerror webhook_version webhook_abi_version; do
    check "$f is exported" 'echo "$exports" | grep -qx "$f"'
done
versioned=$(nm -D --defined-only "$lib" | awk '$3 ~ /^webhook_/ {print $3}')
check "the 1.0 functions are under SWIFTWEBHOOK_1" 'echo "$versioned" | grep -qx "webhook_emit@@SWIFTWEBHOOK_1"'
check "webhook_get_metrics is under SWIFTWEBHOOK_1.3 (1.3.0's node)" 'echo "$versioned" | grep -qx "webhook_get_metrics@@SWIFTWEBHOOK_1.3"'
check "webhook_reload is under SWIFTWEBHOOK_1.3" 'echo "$versioned" | grep -qx "webhook_reload@@SWIFTWEBHOOK_1.3"'
check "webhook_get_endpoint_stats is under SWIFTWEBHOOK_1.4 (1.4.0's node)" 'echo "$versioned" | grep -qx "webhook_get_endpoint_stats@@SWIFTWEBHOOK_1.4"'
check "no Swift symbol in the dynamic table" '! nm -D "$lib" | grep -q -e "\$s" -e "\$e"'

needed=$(readelf -d "$lib" | awk '/NEEDED/ {gsub(/[\[\]]/, "", $5); print $5}')
echo "needed: $(echo $needed)"
if [ "$runtime" = embedded ]; then
    # No Swift runtime, so no C++ runtime under it either.
    # Not libm either: its one function is the library's own (cmake/embedded/ceil.c).
    allowed='^(libc\.so\.6|libpthread\.so\.0|libdl\.so\.2|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1|ld-linux-armhf\.so\.3)$'
    size=$(stat -L -c %s "$lib")
    echo "size: $size bytes"
    check "the Embedded build is at most 1 MB (stripped; its debug info is apart)" '[ "$size" -le 1048576 ]'
    check "its debug info is found by its debug link" '[ -f "$(dirname "$(readlink -f "$lib")")/$(readelf --string-dump=.gnu_debuglink "$lib" | sed -n "s/.*\] *//p" | head -1)" ]'
else
    allowed='^(libc\.so\.6|libstdc\+\+\.so\.6|libm\.so\.6|libgcc_s\.so\.1|libpthread\.so\.0|libdl\.so\.2|ld-linux-x86-64\.so\.2)$'
fi
check "depends only on libc and friends (libnng, mbedtls and sqlite3 are loaded with dlopen)" '! echo "$needed" | grep -Ev "$allowed" | grep -q .'
check "no Swift runtime library is needed" '! readelf -d "$lib" | grep NEEDED | grep -qi swift'
check "soname is versioned" 'readelf -d "$lib" | grep -q "SONAME.*libswiftwebhook.so.1"'
echo "check_library: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
