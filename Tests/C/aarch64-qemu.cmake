# The C tests for the arm64 library: built with Debian's cross compilers,
# run under qemu-user with Debian's arm64 libraries (multiarch: libc6:arm64,
# libnng1:arm64, ...), against receivers on loopback. scripts/test-cross.
#
# Not QEMU_LD_PREFIX=/usr/aarch64-linux-gnu: that sysroot's loader would
# find the multiarch libc6:arm64 through /etc/ld.so.cache, a glibc of
# another build, and threads then hang in pthread_create.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
