// Fuzzes the command-line data flags parser (ract_data_flags_parse): the input is split
// at NUL bytes into argv strings, each parsed in turn; a bad value must give -1 with a
// message, never a crash or an overflow of the path buffers. ract_data_flags_finish is not
// called (it looks for files).
#include <stdint.h>
#include <string.h>

#include <string>

#include "tools/data_flags.h"
#include "tools/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ract_data_flags f;  // large (5 paths of 4 KiB): not on the stack
  ract_data_flags_init(&f);
  size_t start = 0;
  for (size_t i = 0; i <= size; i++) {
    if (i < size && data[i] != 0) continue;
    std::string arg((const char*)data + start, i - start);  // exact size, NUL-terminated
    start = i + 1;
    ract_error err{};
    int r = ract_data_flags_parse(&f, arg.c_str(), &err);
    FUZZ_CHECK(r == -1 || r == 0 || r == 1);
    if (r == -1) {
      FUZZ_CHECK(err.status != RACT_OK);
      FUZZ_CHECK(err.msg[0] != '\0');
    }
    if (r == 1) {
      // Whatever was accepted is in range.
      const ract_data_options& o = f.opt;
      FUZZ_CHECK(o.load.format >= RACT_FORMAT_AUTO && o.load.format <= RACT_FORMAT_TSV);
      FUZZ_CHECK(o.split >= RACT_SPLIT_RS && o.split <= RACT_SPLIT_FILES);
      for (int k = 0; k < 5; k++) FUZZ_CHECK(memchr(f.path[k], 0, sizeof f.path[k]) != nullptr);
    }
  }
  return 0;
}
