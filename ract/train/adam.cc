// Adam over a flat buffer: one loop (see adam.h for the update).
#include "ract/train/adam.h"

#include <math.h>

ract_adam ract_adam_make(float lr) {
  ract_adam a;
  a.lr = lr;
  a.beta1 = 0.9f;
  a.beta2 = 0.999f;
  a.eps = 1e-8f;
  a.t = 0;
  return a;
}

void ract_adam_step(ract_adam* opt, float* params, const float* grads, float* m, float* v,
                    size_t n) {
  opt->t++;
  const float b1 = opt->beta1, b2 = opt->beta2;
  const float c1 = (float)(1.0 - pow((double)b1, (double)opt->t));
  const float c2 = (float)(1.0 - pow((double)b2, (double)opt->t));
  const float lr = opt->lr, eps = opt->eps;
  for (size_t i = 0; i < n; i++) {
    const float g = grads[i];
    m[i] = b1 * m[i] + (1.0f - b1) * g;
    v[i] = b2 * v[i] + (1.0f - b2) * g * g;
    const float mh = m[i] / c1;
    const float vh = v[i] / c2;
    params[i] -= lr * mh / (sqrtf(vh) + eps);
  }
}
