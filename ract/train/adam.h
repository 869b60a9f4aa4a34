// Adam over one flat buffer (llm.c style): one loop, no weight decay. A group (actor,
// critic) is frozen by simply not stepping it. `t` is the 1-based step count of the group
// (PyTorch keeps it per parameter; all of a group's parameters step together).
//   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
//   p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)     (PyTorch's order of operations)
#ifndef RACT_TRAIN_ADAM_H_
#define RACT_TRAIN_ADAM_H_

#include <stddef.h>
#include <stdint.h>

typedef struct ract_adam {
  float lr;
  float beta1;  // 0.9
  float beta2;  // 0.999
  float eps;    // 1e-8
  int64_t t;    // steps taken (incremented by ract_adam_step before use)
} ract_adam;

// lr with the defaults beta 0.9/0.999, eps 1e-8, t = 0.
ract_adam ract_adam_make(float lr);

// One step over n parameters; increments opt->t.
void ract_adam_step(ract_adam* opt, float* params, const float* grads, float* m, float* v,
                    size_t n);

#endif  // RACT_TRAIN_ADAM_H_
