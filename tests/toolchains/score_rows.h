// The scores of every item for a list of histories, through the public scorer API
// (ract.h), written on one architecture and compared on another by cross_arch_test.
#ifndef RACT_TESTS_TOOLCHAINS_SCORE_ROWS_H_
#define RACT_TESTS_TOOLCHAINS_SCORE_ROWS_H_

#include <stdint.h>

#include <string>
#include <vector>

struct ScoreRows {
  int users = 0, items = 0, k = 0;
  std::vector<float> scores;  // users x items: every logit
  std::vector<int32_t> top;   // users x k: the top-k item indices, history masked
};

// Loads the weight file at `model` and scores each line of `histories` (item tokens
// separated by commas). Returns an empty string or what went wrong.
std::string score_rows(const char* model, const char* histories, int k, ScoreRows* out);

// The rows as a little file: "RACTROWS", users, items, k (int32), scores, top.
std::string write_rows(const char* path, const ScoreRows& r);
std::string read_rows(const char* path, ScoreRows* r);

#endif  // RACT_TESTS_TOOLCHAINS_SCORE_ROWS_H_
