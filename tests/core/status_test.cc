#include "ract/core/status.h"

#include <doctest/doctest.h>
#include <string.h>

#include <set>
#include <string>

TEST_CASE("status: every code has its own name") {
  std::set<std::string> names;
  for (int s = 0; s < RACT_STATUS_COUNT; s++) {
    std::string n = ract_status_name((ract_status)s);
    CHECK(n.rfind("RACT_", 0) == 0);
    CHECK(n != "RACT_ERR_UNKNOWN");
    names.insert(n);
  }
  CHECK(names.size() == (size_t)RACT_STATUS_COUNT);
  CHECK(std::string(ract_status_name(RACT_STATUS_COUNT)) == "RACT_ERR_UNKNOWN");
}

TEST_CASE("status: ract_fail formats the message and returns the code") {
  ract_error err;
  CHECK(ract_fail(&err, RACT_ERR_PARSE, "%s:%d: bad rating '%s'", "u.data", 17, "x") ==
        RACT_ERR_PARSE);
  CHECK(err.status == RACT_ERR_PARSE);
  CHECK(std::string(err.msg) == "u.data:17: bad rating 'x'");
  CHECK(ract_fail(nullptr, RACT_ERR_IO, "ignored") == RACT_ERR_IO);  // NULL err is allowed
  std::string longmsg(2000, 'a');
  ract_fail(&err, RACT_ERR_ARG, "%s", longmsg.c_str());
  CHECK(strlen(err.msg) == sizeof(err.msg) - 1);  // truncated, terminated
}
