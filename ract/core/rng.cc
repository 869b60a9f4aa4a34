// xoshiro256** (Blackman and Vigna), seeded with splitmix64.
#include "ract/core/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t* x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void ract_rng_seed(ract_rng* r, uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

uint64_t ract_rng_stream(uint64_t key, uint64_t id) {
  uint64_t x = key;
  const uint64_t k = splitmix64(&x);
  x = k ^ id;
  return splitmix64(&x);
}

uint64_t ract_rng_u64(ract_rng* r) {
  uint64_t* s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint32_t ract_rng_below(ract_rng* r, uint32_t n) {
  uint64_t m = (uint64_t)(uint32_t)(ract_rng_u64(r) >> 32) * n;
  uint32_t low = (uint32_t)m;
  if (low < n) {
    uint32_t threshold = (uint32_t)(-n) % n;
    while (low < threshold) {
      m = (uint64_t)(uint32_t)(ract_rng_u64(r) >> 32) * n;
      low = (uint32_t)m;
    }
  }
  return (uint32_t)(m >> 32);
}

float ract_rng_uniform(ract_rng* r) {
  return (float)(ract_rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

double ract_rng_uniform_double(ract_rng* r) {
  return (double)(ract_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

double ract_rng_normal(ract_rng* r) {
  double u1 = 1.0 - ract_rng_uniform_double(r);  // (0, 1]
  double u2 = ract_rng_uniform_double(r);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double ract_rng_truncated_normal(ract_rng* r, double std) {
  for (;;) {
    double z = ract_rng_normal(r);
    if (z >= -2.0 && z <= 2.0) return z * std;
  }
}

int ract_rng_bernoulli(ract_rng* r, float p) { return ract_rng_uniform(r) < p; }

void ract_rng_shuffle(ract_rng* r, int* v, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = ract_rng_below(r, (uint32_t)i);
    int t = v[i - 1];
    v[i - 1] = v[j];
    v[j] = t;
  }
}
