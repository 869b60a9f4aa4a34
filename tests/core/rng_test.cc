#include "ract/core/rng.h"

#include <doctest/doctest.h>
#include <math.h>

#include <algorithm>
#include <vector>

TEST_CASE("rng: the stream of a seed is fixed (golden values, every machine)") {
  ract_rng r;
  ract_rng_seed(&r, 2020, 0);
  const uint64_t golden[4] = {0x2334c896b4cf8e03ull, 0x47fe724559250b1eull, 0xd307788674632026ull,
                              0x0a4ae4326790208bull};
  for (uint64_t g : golden) CHECK(ract_rng_u64(&r) == g);
}

TEST_CASE("rng: same seed same stream; other seed or stream differs; state is a value") {
  ract_rng a, b, c, d;
  ract_rng_seed(&a, 7, 0);
  ract_rng_seed(&b, 7, 0);
  ract_rng_seed(&c, 8, 0);
  ract_rng_seed(&d, 7, 1);
  int same_c = 0, same_d = 0;
  for (int i = 0; i < 1000; i++) {
    uint64_t x = ract_rng_u64(&a);
    CHECK(x == ract_rng_u64(&b));
    same_c += x == ract_rng_u64(&c);
    same_d += x == ract_rng_u64(&d);
  }
  CHECK(same_c == 0);
  CHECK(same_d == 0);
  ract_rng saved = a;  // copying the state forks the stream
  double u = ract_rng_normal(&a);
  CHECK(ract_rng_normal(&saved) == u);
}

TEST_CASE("rng: uniform, normal, bernoulli moments") {
  ract_rng r;
  ract_rng_seed(&r, 1, 0);
  const int n = 200000;
  double su = 0, suu = 0, sn = 0, snn = 0, snnnn = 0;
  int ones = 0;
  for (int i = 0; i < n; i++) {
    float u = ract_rng_uniform(&r);
    REQUIRE(u >= 0.0f);
    REQUIRE(u < 1.0f);
    su += u;
    suu += (double)u * u;
    double z = ract_rng_normal(&r);
    sn += z;
    snn += z * z;
    snnnn += z * z * z * z;
    ones += ract_rng_bernoulli(&r, 0.3f);
  }
  CHECK(su / n == doctest::Approx(0.5).epsilon(0.01));
  CHECK(suu / n - (su / n) * (su / n) == doctest::Approx(1.0 / 12).epsilon(0.02));
  CHECK(fabs(sn / n) < 0.01);
  CHECK(snn / n == doctest::Approx(1.0).epsilon(0.02));
  CHECK(snnnn / n == doctest::Approx(3.0).epsilon(0.05));  // kurtosis of a Gaussian
  CHECK((double)ones / n == doctest::Approx(0.3).epsilon(0.02));
}

TEST_CASE("rng: below is in range and unbiased; truncated normal is truncated") {
  ract_rng r;
  ract_rng_seed(&r, 3, 0);
  int counts[7] = {0};
  for (int i = 0; i < 70000; i++) {
    uint32_t k = ract_rng_below(&r, 7);
    REQUIRE(k < 7);
    counts[k]++;
  }
  for (int c : counts) CHECK(fabs(c - 10000) < 400);
  double s2 = 0;
  for (int i = 0; i < 20000; i++) {
    double z = ract_rng_truncated_normal(&r, 0.001);
    REQUIRE(fabs(z) <= 0.002);
    s2 += z * z;
  }
  // variance of N(0,1) truncated to [-2,2] is 0.7737
  CHECK(s2 / 20000 / 1e-6 == doctest::Approx(0.7737).epsilon(0.03));
}

TEST_CASE("rng: shuffle is a permutation and depends on the seed") {
  std::vector<int> v(100), w(100);
  for (int i = 0; i < 100; i++) v[i] = w[i] = i;
  ract_rng r1, r2;
  ract_rng_seed(&r1, 5, 0);
  ract_rng_seed(&r2, 6, 0);
  ract_rng_shuffle(&r1, v.data(), v.size());
  ract_rng_shuffle(&r2, w.data(), w.size());
  CHECK(v != w);
  std::vector<int> s = v;
  std::sort(s.begin(), s.end());
  for (int i = 0; i < 100; i++) CHECK(s[i] == i);
  int fixed = 0;
  for (int i = 0; i < 100; i++) fixed += v[i] == i;
  CHECK(fixed < 10);
}
