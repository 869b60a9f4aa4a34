#include "tools/data_flags.h"

#include <doctest/doctest.h>
#include <math.h>
#include <stdlib.h>

#include <string>

namespace {

int parse(ract_data_flags* f, const char* arg, ract_error* err) {
  return ract_data_flags_parse(f, arg, err);
}

}  // namespace

TEST_CASE("data flags: every flag parses into the options") {
  ract_data_flags f;
  ract_data_flags_init(&f);
  ract_error err;
  unsetenv("BUILD_WORKING_DIRECTORY");
  const char* args[] = {"--data=/x/r.csv",
                        "--format=csv",
                        "--user_col=userId",
                        "--item_col=1",
                        "--rating_col=none",
                        "--header=yes",
                        "--threshold=3.5",
                        "--user_inter_num_interval=[5,inf)",
                        "--item_inter_num_interval=(0,10]",
                        "--split=paper",
                        "--split_ratio=0.7,0.2,0.1",
                        "--heldout_users=50",
                        "--holdout_fraction=0.25",
                        "--seed=7",
                        "--write_split=out",
                        "--dataset_name=mine"};
  for (const char* a : args) {
    CAPTURE(a);
    CHECK(parse(&f, a, &err) == 1);
  }
  const ract_data_options& o = f.opt;
  CHECK(std::string(o.data) == "/x/r.csv");
  CHECK(o.load.format == RACT_FORMAT_CSV);
  CHECK(std::string(o.load.user_col) == "userId");
  CHECK(std::string(o.load.item_col) == "1");
  CHECK(std::string(o.load.rating_col) == "none");
  CHECK(o.load.header == 1);
  CHECK(o.use_threshold == 1);
  CHECK(o.threshold == 3.5f);
  CHECK(o.user_inter_num.lo == 5);
  CHECK(o.item_inter_num.lo_open == 1);
  CHECK(o.item_inter_num.hi == 10);
  CHECK(o.split == RACT_SPLIT_PAPER);
  CHECK(o.split_ratio[1] == 0.2);
  CHECK(o.heldout_users == 50);
  CHECK(o.holdout_fraction == 0.25);
  CHECK(o.seed == 7);
  CHECK(std::string(o.write_split) == "out");
  CHECK(std::string(o.name) == "mine");
  CHECK(parse(&f, "--epochs=3", &err) == 0);  // not ours
  CHECK(parse(&f, "data", &err) == 0);
  REQUIRE(ract_data_flags_finish(&f, "x", &err) == RACT_OK);
  CHECK(std::string(f.opt.data) == "/x/r.csv");  // data given: no default
}

TEST_CASE("data flags: bad values name the flag") {
  ract_data_flags f;
  ract_data_flags_init(&f);
  ract_error err;
  struct Bad {
    const char* arg;
    const char* want;
  } bad[] = {{"--format=xml", "--format=xml"},
             {"--threshold=high", "--threshold=high"},
             {"--split=LOO", "--split=LOO"},
             {"--split_ratio=0.8,0.1", "--split_ratio"},
             {"--split_ratio=0.8,-0.1,0.1", "--split_ratio"},
             {"--heldout_users=0", "--heldout_users"},
             {"--holdout_fraction=1", "--holdout_fraction"},
             {"--seed=-1", "--seed"},
             {"--user_inter_num_interval=[5,", "--user_inter_num_interval"},
             {"--header=maybe", "--header"},
             {"--data=", "--data"},
             {"--user_col=", "--user_col"}};
  for (const Bad& b : bad) {
    CAPTURE(b.arg);
    CHECK(parse(&f, b.arg, &err) == -1);
    CHECK(err.status == RACT_ERR_ARG);
    CHECK(std::string(err.msg).find(b.want) == 0);
  }
  ract_data_flags g;
  ract_data_flags_init(&g);
  CHECK(parse(&g, "--train=a.tsv", &err) == 1);
  CHECK(ract_data_flags_finish(&g, "x", &err) == RACT_ERR_ARG);
  CHECK(std::string(err.msg).find("--train, --valid and --test") != std::string::npos);
}

TEST_CASE("data flags: relative paths follow BUILD_WORKING_DIRECTORY") {
  setenv("BUILD_WORKING_DIRECTORY", "/home/me", 1);
  ract_data_flags f;
  ract_data_flags_init(&f);
  CHECK(parse(&f, "--data=r.csv", nullptr) == 1);
  CHECK(std::string(f.opt.data) == "/home/me/r.csv");
  CHECK(parse(&f, "--data=/abs/r.csv", nullptr) == 1);
  CHECK(std::string(f.opt.data) == "/abs/r.csv");
  unsetenv("BUILD_WORKING_DIRECTORY");
}

TEST_CASE("data flags: no data flag -> shipped ml-latest-small under the paper protocol") {
  ract_data_flags f;
  ract_data_flags_init(&f);
  ract_error err = {};
  unsetenv("RACT_DEFAULT_DATA");
  CHECK(parse(&f, "--seed=3", &err) == 1);
  REQUIRE_MESSAGE(ract_data_flags_finish(&f, "tests/tools/data_flags_test", &err) == RACT_OK,
                  err.msg);
  std::string path = f.opt.data;
  CHECK(path.find("third_party/ml-latest-small/ratings.csv") != std::string::npos);
  CHECK(f.opt.split == RACT_SPLIT_PAPER);
  CHECK(f.opt.use_threshold == 1);
  CHECK(f.opt.threshold == 4.0f);
  CHECK(f.opt.user_inter_num.lo == 5);
  CHECK(f.opt.seed == 3);
  CHECK(std::string(f.opt.name) == "ml-latest-small");

  // Explicit protocol flags win over the default's.
  ract_data_flags g;
  ract_data_flags_init(&g);
  CHECK(parse(&g, "--split=RS", &err) == 1);
  CHECK(parse(&g, "--threshold=none", &err) == 1);
  REQUIRE(ract_data_flags_finish(&g, "x", &err) == RACT_OK);
  CHECK(g.opt.split == RACT_SPLIT_RS);
  CHECK(g.opt.use_threshold == 0);
  CHECK(g.opt.user_inter_num.lo == 5);

  // The environment overrides the default file; a missing file is an error.
  setenv("RACT_DEFAULT_DATA", "/nonexistent/ratings.csv", 1);
  ract_data_flags h;
  ract_data_flags_init(&h);
  CHECK(ract_data_flags_finish(&h, "x", &err) == RACT_ERR_IO);
  CHECK(std::string(err.msg).find("RACT_DEFAULT_DATA") != std::string::npos);
  unsetenv("RACT_DEFAULT_DATA");
  CHECK(std::string(ract_data_flags_usage()).find("--write_split=DIR") != std::string::npos);
}

TEST_CASE("data flags: an over-long --split_ratio is refused, not cut into a valid one") {
  ract_data_flags f;
  ract_data_flags_init(&f);
  ract_error err;
  // Cut at 127 characters this would read 0.5,0.25,0.25000...0 and pass.
  std::string arg = "--split_ratio=0.5,0.25,0.25" + std::string(130, '0') + "x";
  CHECK(parse(&f, arg.c_str(), &err) == -1);
  CHECK(std::string(err.msg).find("value too long") != std::string::npos);
  CHECK(f.opt.split_ratio[0] == doctest::Approx(0.8));  // the default, untouched
}
