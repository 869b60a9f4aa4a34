// Deterministic random numbers: xoshiro256** seeded through splitmix64. The state is a
// plain value owned by the caller (saved in checkpoints, copied to fork a stream), so
// the same seed gives the same stream on every machine and thread count. Integer and
// uniform streams are bit-exact everywhere; normals go through log/cos of double.
#ifndef RACT_CORE_RNG_H_
#define RACT_CORE_RNG_H_

#include <stddef.h>
#include <stdint.h>

typedef struct ract_rng {
  uint64_t s[4];
} ract_rng;

// Seeds a generator; different `stream` values give independent streams for one seed
// (one per thread, one per purpose).
void ract_rng_seed(ract_rng* r, uint64_t seed, uint64_t stream);

// A stream id for item `id` of a family `key` (e.g. key = stage and epoch, id = a user):
// distinct (key, id) pairs give independent streams of ract_rng_seed.
uint64_t ract_rng_stream(uint64_t key, uint64_t id);

uint64_t ract_rng_u64(ract_rng* r);
// Uniform in [0, n), unbiased (Lemire). n must be > 0.
uint32_t ract_rng_below(ract_rng* r, uint32_t n);
// Uniform in [0, 1): 24-bit float / 53-bit double.
float ract_rng_uniform(ract_rng* r);
double ract_rng_uniform_double(ract_rng* r);
// Standard normal (Box-Muller; one draw per call, nothing cached in the state).
double ract_rng_normal(ract_rng* r);
// Normal N(0, std^2) resampled until within [-2 std, 2 std] (PyTorch's trunc_normal_).
double ract_rng_truncated_normal(ract_rng* r, double std);
// 1 with probability p.
int ract_rng_bernoulli(ract_rng* r, float p);
// Fisher-Yates shuffle of n ints.
void ract_rng_shuffle(ract_rng* r, int* v, size_t n);

#endif  // RACT_CORE_RNG_H_
