// The binary is built for the platform Bazel was asked for (--config=aarch64 or the
// x86-64 host), runs where expected (aarch64 only under qemu, through
// third_party/toolchains/aarch64/qemu_run.sh), and has the data layout the portable
// weight files assume: little-endian, IEEE-754 binary32 floats, 8-byte pointers.
#include <doctest/doctest.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <limits>

TEST_CASE("the compiler targets the configured platform") {
#if RACT_EXPECT_AARCH64
#if !defined(__aarch64__)
  FAIL("--config=aarch64 compiled this test for another CPU");
#endif
  // Started by qemu_run.sh, which exports the emulator command for scripts.
  const char* emu = getenv("RACT_EMULATOR");
  REQUIRE(emu != nullptr);
  CHECK(strstr(emu, "qemu-aarch64") != nullptr);
  MESSAGE("aarch64 under: ", doctest::String(emu));
#else
#if !defined(__x86_64__)
  FAIL("the host build is not x86-64");
#endif
  CHECK(getenv("RACT_EMULATOR") == nullptr);
#endif
}

TEST_CASE("data layout the weight files rely on") {
  CHECK(sizeof(void*) == 8);
  CHECK(sizeof(float) == 4);
  CHECK(std::numeric_limits<float>::is_iec559);
  const uint32_t one = 1;
  uint8_t first;
  memcpy(&first, &one, 1);
  CHECK(first == 1);  // little-endian
  const float f = 1.5f;
  uint32_t bits;
  memcpy(&bits, &f, 4);
  CHECK(bits == 0x3fc00000u);
  // Round to nearest even, no flush of subnormals to zero.
  volatile float tiny = std::numeric_limits<float>::denorm_min();
  CHECK(tiny * 2.0f > 0.0f);
  volatile float a = 16777216.0f;  // 2^24: a + 1 is a tie, rounds to even
  CHECK(a + 1.0f == 16777216.0f);
}
