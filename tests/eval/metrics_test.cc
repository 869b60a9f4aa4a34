#include "ract/eval/metrics.h"

#include <doctest/doctest.h>
#include <math.h>

#include <string>

TEST_CASE("metrics: hand-computed values for one ranking, K = 2 and 5") {
  ract_metrics m;
  const int ks[] = {2, 5};
  REQUIRE(ract_metrics_init(&m, ks, 2, nullptr) == RACT_OK);
  const uint8_t hits[] = {0, 1, 0, 1, 0};
  ract_metrics_add(&m, hits, 5, 3);  // |R| = 3
  ract_metrics_finish(&m);
  CHECK(m.users == 1);
  // K = 2: one hit at rank 2.
  CHECK(m.recall[0] == doctest::Approx(1.0 / 3));
  CHECK(m.recall_paper[0] == doctest::Approx(1.0 / 2));  // / min(K, |R|)
  CHECK(m.precision[0] == doctest::Approx(0.5));
  CHECK(m.hit[0] == 1.0);
  CHECK(m.mrr[0] == doctest::Approx(0.5));
  CHECK(m.ndcg[0] == doctest::Approx(0.38685280723454163));
  // K = 5: hits at ranks 2 and 4; ideal DCG over 3 positions.
  CHECK(m.recall[1] == doctest::Approx(2.0 / 3));
  CHECK(m.recall_paper[1] == doctest::Approx(2.0 / 3));
  CHECK(m.precision[1] == doctest::Approx(0.4));
  CHECK(m.mrr[1] == doctest::Approx(0.5));
  CHECK(m.ndcg[1] == doctest::Approx(0.49818925746641285));
  CHECK(ract_metrics_get(&m, "ndcg@5") == m.ndcg[1]);
  CHECK(ract_metrics_get(&m, "recall_paper@2") == m.recall_paper[0]);
  CHECK(isnan(ract_metrics_get(&m, "ndcg@7")));
  CHECK(isnan(ract_metrics_get(&m, "auc@2")));
}

TEST_CASE("metrics: fewer relevant items than K, fewer ranked items than K, no relevant item") {
  ract_metrics m;
  const int ks[] = {5};
  REQUIRE(ract_metrics_init(&m, ks, 1, nullptr) == RACT_OK);
  const uint8_t first[] = {1, 0, 0, 0, 0};
  ract_metrics_add(&m, first, 5, 1);  // perfect: the one relevant item first
  const uint8_t short_list[] = {0, 1};
  ract_metrics_add(&m, short_list, 2, 2);  // only 2 items could be ranked
  const uint8_t none[] = {1, 1, 1};
  ract_metrics_add(&m, none, 3, 0);  // no relevant item: not counted at all
  ract_metrics_finish(&m);
  REQUIRE(m.users == 2);
  const double a = 1 / log2(3.0);
  CHECK(m.recall[0] == doctest::Approx((1.0 + 0.5) / 2));
  CHECK(m.recall_paper[0] == doctest::Approx((1.0 + 0.5) / 2));
  CHECK(m.precision[0] == doctest::Approx((0.2 + 0.2) / 2));
  CHECK(m.hit[0] == doctest::Approx(1.0));
  CHECK(m.mrr[0] == doctest::Approx((1.0 + 0.5) / 2));
  CHECK(m.ndcg[0] == doctest::Approx((1.0 + a / (1 + a)) / 2));
  ract_metrics_finish(&m);  // idempotent
  CHECK(m.recall[0] == doctest::Approx(0.75));

  ract_metrics e;
  REQUIRE(ract_metrics_init(&e, ks, 1, nullptr) == RACT_OK);
  ract_metrics_finish(&e);
  CHECK(e.users == 0);
  CHECK(e.ndcg[0] == 0.0);
}

TEST_CASE("metrics: cut-off lists, RecBole table and JSON") {
  ract_metrics m;
  ract_error err;
  REQUIRE(ract_metrics_init_list(&m, "10,100", &err) == RACT_OK);
  CHECK(m.n_k == 2);
  CHECK(ract_metrics_max_k(&m) == 100);
  CHECK(ract_metrics_init_list(&m, "10,,100", &err) == RACT_ERR_ARG);
  CHECK(ract_metrics_init_list(&m, "0", &err) == RACT_ERR_ARG);
  CHECK(ract_metrics_init_list(&m, "1,2,3,4,5,6,7,8,9", &err) == RACT_ERR_ARG);
  CHECK(ract_metrics_init_list(&m, "", &err) == RACT_ERR_ARG);
  ract_metrics_init_default(&m);
  CHECK(m.k[0] == 10);
  CHECK(m.k[1] == 100);
  uint8_t hits[100] = {};
  hits[0] = 1;
  ract_metrics_add(&m, hits, 100, 2);
  ract_metrics_finish(&m);
  char buf[2048];
  ract_metrics_format(buf, sizeof(buf), &m);
  std::string s = buf;
  CHECK(s.rfind("recall@10 : 0.5000    recall@100 : 0.5000    mrr@10 : 1.0000", 0) == 0);
  CHECK(s.find("    precision@10 : 0.1000    precision@100 : 0.0100\nrecall_paper@10 : 0.5000") !=
        std::string::npos);
  ract_metrics_format_json(buf, sizeof(buf), &m);
  s = buf;
  CHECK(s.rfind("{\"users\": 1, \"recall@10\": 0.500000, \"recall@100\": 0.500000", 0) == 0);
  CHECK(s.find("\"ndcg@100\": 0.613147") != std::string::npos);
  CHECK(s.find("\"hit@10\": 1.000000") != std::string::npos);
  CHECK(s.find("\"recall_paper@100\": 0.500000}") != std::string::npos);
  // A short buffer is truncated safely; the return value is the full length.
  char small[16];
  int n = ract_metrics_format_json(small, sizeof(small), &m);
  CHECK(n == (int)s.size());
  CHECK(std::string(small) == s.substr(0, 15));
}
