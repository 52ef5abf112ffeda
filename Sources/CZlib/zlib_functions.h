/*
 * Every function the engine calls from libz.so.1, once: binding.c turns
 * this list into the table of resolved addresses and into the forwarders
 * the engine links against (Sources/CBinding/include/cbinding_table.h). A
 * new call needs a line here (the link fails with an undefined symbol
 * otherwise).
 *
 *   CBIND_FUNCTION(return type, name, (parameters), (arguments))
 */
CBIND_FUNCTION(int, deflateInit2_, (z_streamp s, int level, int method, int bits, int mem, int strategy, const char *version, int size), (s, level, method, bits, mem, strategy, version, size))
CBIND_FUNCTION(int, deflate, (z_streamp s, int flush), (s, flush))
CBIND_FUNCTION(int, deflateEnd, (z_streamp s), (s))
CBIND_FUNCTION(uLong, deflateBound, (z_streamp s, uLong n), (s, n))
