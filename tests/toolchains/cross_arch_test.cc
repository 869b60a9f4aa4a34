// Issue 8: weight files written on x86-64 (tools/train, then tools/score --convert to int8)
// give the same answers on the target architecture: the same top-20 for every history and
// every logit within 1e-5 (relative to the logit's size, at least 1). The x86-64 side is
// golden_scores run by the x86_model genrule (built for the host); this test is built for
// the target: aarch64 under qemu with --config=aarch64, x86-64 otherwise.
//   cross_arch_test HISTORIES (MODEL GOLDEN)...
#define DOCTEST_CONFIG_IMPLEMENT  // doctest itself, with the main() below
#include <doctest/doctest.h>
#include <math.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "tests/toolchains/score_rows.h"

namespace {
std::vector<std::string> g_args;
}

TEST_CASE("x86-64 weight files score the same on this architecture") {
  REQUIRE(g_args.size() >= 3);
  REQUIRE(g_args.size() % 2 == 1);
#if defined(__aarch64__)
  const char* arch = "aarch64";
#elif defined(__x86_64__)
  const char* arch = "x86-64";
#else
  const char* arch = "this architecture";
#endif
  const std::string& histories = g_args[0];
  for (size_t i = 1; i + 1 < g_args.size(); i += 2) {
    CAPTURE(g_args[i]);
    ScoreRows golden, here;
    REQUIRE(read_rows(g_args[i + 1].c_str(), &golden) == "");
    REQUIRE(score_rows(g_args[i].c_str(), histories.c_str(), golden.k, &here) == "");
    REQUIRE(golden.users >= 10);
    REQUIRE(here.users == golden.users);
    REQUIRE(here.items == golden.items);
    REQUIRE(here.k == golden.k);

    int same_top = 0;
    for (int u = 0; u < golden.users; u++) {
      bool same = true;
      for (int j = 0; j < golden.k; j++) {
        same = same && here.top[(size_t)u * golden.k + j] == golden.top[(size_t)u * golden.k + j];
      }
      same_top += same;
    }
    CHECK(same_top == golden.users);

    double max_abs = 0, max_rel = 0;
    size_t bad = 0;
    for (size_t j = 0; j < golden.scores.size(); j++) {
      double g = golden.scores[j], h = here.scores[j];
      double d = fabs(g - h);
      if (!(d <= 1e-5 * fmax(1.0, fabs(g)))) bad++;
      if (d > max_abs) max_abs = d;
      if (fabs(g) > 0 && d / fabs(g) > max_rel) max_rel = d / fabs(g);
    }
    CHECK(bad == 0);
    MESSAGE(g_args[i], " on ", doctest::String(arch), ": ", golden.users, " users x ", golden.items,
            " items; top-", golden.k, " identical for ", same_top, "/", golden.users,
            "; max |logit diff| ", max_abs, " (relative ", max_rel, ")");
  }
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] != '-') g_args.push_back(argv[i]);
  }
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
