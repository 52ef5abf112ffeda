#include <mbedtls/md.h>
