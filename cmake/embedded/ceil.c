/*
 * ceil.c - ceil(3) inside the Embedded build, so libm is not loaded.
 *
 * Swift's Dictionary and Set size their storage with Double.rounded(.up),
 * which on baseline x86-64 (no SSE4.1) and on armv7 compiles to a call to
 * ceil. It is the library's only libm function, and for it the dynamic
 * loader would map libm into the broker: about 200 KB of an idle NanoMQ's
 * PSS. Hidden, so the library's own calls bind here and nothing is
 * exported. Exact for every double (the bits are rounded, as musl does);
 * Tests/C/ceil_test.c compares it with libm's.
 */
#include <stdint.h>
#include <string.h>

__attribute__((visibility("hidden"))) double
ceil(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int exponent = (int) ((bits >> 52) & 0x7ff) - 1023;
    int negative = (int) (bits >> 63);
    if (exponent >= 52) {
        return x; /* integral already, or infinite, or NaN */
    }
    if (exponent < 0) { /* |x| < 1 */
        if (negative || (bits << 1) == 0) {
            return negative ? -0.0 : x; /* (-1, 0] rounds up to -0, +0 stays */
        }
        return 1.0;
    }
    uint64_t fraction = UINT64_C(0x000fffffffffffff) >> exponent;
    if ((bits & fraction) == 0) {
        return x;
    }
    if (!negative) {
        bits += fraction + 1; /* one unit up; a carry into the exponent is right */
    }
    bits &= ~fraction; /* toward zero: up for a negative number */
    memcpy(&x, &bits, sizeof x);
    return x;
}
