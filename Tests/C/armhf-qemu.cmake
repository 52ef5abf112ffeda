# The C tests for the armv7 hard-float library (Debian's armhf): built with
# Debian's cross compilers, run under qemu-arm with Debian's armhf libraries
# (multiarch), against receivers on loopback. scripts/test-cross.
# (As for arm64, not QEMU_LD_PREFIX: see aarch64-qemu.cmake.)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm)
