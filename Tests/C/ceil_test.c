/*
 * ceil_test.c - the Embedded build's own ceil (cmake/embedded/ceil.c)
 * against libm's, bit for bit: special values, every boundary of the
 * exponent, and a million random doubles.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ceil swh_ceil
#include "../../cmake/embedded/ceil.c"
#undef ceil

static int failures = 0;

static void
check(double x)
{
    double mine = swh_ceil(x), theirs = ceil(x);
    uint64_t a, b;
    memcpy(&a, &mine, sizeof a);
    memcpy(&b, &theirs, sizeof b);
    if (a != b && !(isnan(mine) && isnan(theirs))) {
        if (failures++ < 10) {
            printf("ceil(%a): got %a, libm says %a\n", x, mine, theirs);
        }
    }
}

int
main(void)
{
    const double specials[] = {0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5, 2.5, 0x1p-1074, -0x1p-1074,
        0x1p52, 0x1p52 + 0.5, -0x1p52 - 0.5, 0x1p53, 0x1.fffffffffffffp51, 0x1.fffffffffffffp0, 1e300, -1e300,
        INFINITY, -INFINITY, NAN, 4503599627370495.5, -4503599627370495.5, 0.9999999999999999};
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) {
        check(specials[i]);
    }
    for (int e = -1080; e <= 1030; e++) {
        double p = ldexp(1.0, e);
        check(p);
        check(-p);
        check(nextafter(p, 0));
        check(-nextafter(p, 0));
        check(nextafter(p, INFINITY));
        check(-nextafter(p, INFINITY));
        check(p * 1.25);
        check(-p * 1.75);
    }
    uint64_t state = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 1000000; i++) {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
        double x;
        /* Random bits, and random values near the integers that matter most. */
        memcpy(&x, &state, sizeof x);
        check(x);
        check((double) (int64_t) (state >> 20) / 1024.0);
    }
    if (failures) {
        printf("%d values differ from libm\n", failures);
        return 1;
    }
    printf("ceil: equal to libm's for every value tried\n");
    return 0;
}
