// Adam over a flat buffer: one loop (see adam.h for the update).
#include "ract/train/adam.h"

#include <math.h>

#include "ract/core/parallel.h"

ract_adam ract_adam_make(float lr) {
  ract_adam a;
  a.lr = lr;
  a.beta1 = 0.9f;
  a.beta2 = 0.999f;
  a.eps = 1e-8f;
  a.t = 0;
  return a;
}

namespace {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
void adam_range(float* __restrict params, const float* __restrict grads, float* __restrict m,
                float* __restrict v, size_t n, float b1, float b2, float step, float rs,
                float eps) {
  for (size_t i = 0; i < n; i++) {
    const float g = grads[i];
    m[i] = b1 * m[i] + (1.0f - b1) * g;
    v[i] = b2 * v[i] + (1.0f - b2) * g * g;
    params[i] -= step * m[i] / (sqrtf(v[i]) * rs + eps);
  }
}

}  // namespace

void ract_adam_step(ract_adam* opt, float* params, const float* grads, float* m, float* v,
                    size_t n) {
  opt->t++;
  const float b1 = opt->beta1, b2 = opt->beta2;
  // PyTorch's form: step = lr / (1 - b1^t), the denominator sqrt(v) / sqrt(1 - b2^t) + eps
  // (one sqrt and one division per weight).
  const double c1 = 1.0 - pow((double)b1, (double)opt->t);
  const double c2 = 1.0 - pow((double)b2, (double)opt->t);
  const float step = (float)(opt->lr / c1), rs = (float)(1.0 / sqrt(c2)), eps = opt->eps;
  // Element-wise: any split over threads gives the same bits.
  const int nt = ract_parallel_threads_for(n);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int t = 0; t < nt; t++) {
    const size_t a = n * t / nt / 64 * 64, e = t == nt - 1 ? n : n * (t + 1) / nt / 64 * 64;
    adam_range(params + a, grads + a, m + a, v + a, e - a, b1, b2, step, rs, eps);
  }
}
