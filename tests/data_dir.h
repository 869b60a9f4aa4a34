// The datasets that may not be redistributed (MovieLens 100K and 1M) are read from
// $RACT_DATA_DIR. A test case that needs them is declared
//   TEST_CASE("..." * doctest::skip(!ract_test_have_data()))
// so that without the variable doctest reports it as skipped, not as passed. The decorator
// is evaluated when the test case registers (static initialisation): the environment is
// already there.
#ifndef RACT_TESTS_DATA_DIR_H_
#define RACT_TESTS_DATA_DIR_H_

#include <stdlib.h>

#include <string>

// $RACT_DATA_DIR, or "" when it is unset or empty.
inline std::string ract_test_data_dir() {
  const char* d = getenv("RACT_DATA_DIR");
  return d && *d ? d : "";
}

inline bool ract_test_have_data() { return !ract_test_data_dir().empty(); }

#endif  // RACT_TESTS_DATA_DIR_H_
