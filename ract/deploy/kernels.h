// The scorer's own kernels: GEMV and row accumulation over fp32, fp16 and int8 weights with
// fp32 activations. No BLIS. The portable bodies are plain loops with restrict pointers and
// blocks of independent float accumulators, so any C++ compiler vectorises them for its
// target (SSE on baseline x86-64, NEON on aarch64). On x86-64 the GEMVs dispatch at run time
// to AVX-512 or AVX2 bodies (F16C for fp16, VNNI for the quantised int8 GEMV) that keep the
// portable summation order term for term; nothing is contracted into a fused multiply-add
// (-ffp-contract=off), so every CPU, x86-64 or aarch64, gives the same bits. Other targets
// build only the portable code.
//
// Weights are row-major. An int8 matrix carries one fp32 scale per row: W[r][c] is
// scale[r] * q[r][c]. An fp16 matrix holds IEEE binary16 bit patterns.
#ifndef RACT_DEPLOY_KERNELS_H_
#define RACT_DEPLOY_KERNELS_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// IEEE binary16 <-> binary32, portable bit manipulation (no F16C, no __fp16).
// half_to_float is exact for every half (subnormals, infinities, NaN kept).
float ract_kernel_half_to_float(uint16_t h);
// Round to nearest, ties to even. Values beyond the half range become +-inf, NaN stays NaN.
uint16_t ract_kernel_float_to_half(float f);

// y is (rows), W is (rows, cols), x is (cols):  y[r] = sum_c W[r][c] * x[c]
void ract_kernel_gemv_f32(float* y, const float* W, const float* x, int rows, int cols);
void ract_kernel_gemv_f16(float* y, const uint16_t* W, const float* x, int rows, int cols);
// W[r][c] = scale[r] * q[r][c]
void ract_kernel_gemv_i8(float* y, const int8_t* W, const float* scale, const float* x, int rows,
                         int cols);

// int8 GEMV with the activation quantised too. ract_kernel_quantise_i8: q[c] = round(x[c] /
// sx) with sx = max|x| / 127 (returned; 0 for an all-zero or non-finite x). Then
// ract_kernel_gemv_i8q: y[r] = scale[r] * sx * sum_c W[r][c] * q[c] with exact int32 sums
// (AVX-512 VNNI where the CPU has it, plain integer loops elsewhere: the same bits on every
// target). Error against ract_kernel_gemv_i8 on x: at most scale[r] * sx/2 * sum_c |W[r][c]|
// per row (each activation is off by at most half a step), plus float rounding.
float ract_kernel_quantise_i8(int8_t* q, const float* x, int cols);
void ract_kernel_gemv_i8q(float* y, const int8_t* W, const float* scale, const int8_t* q, float sx,
                          int rows, int cols);

// y is (n), w is (n):  y[c] += a * w[c]   (one weight row added into an accumulator)
void ract_kernel_axpy_f32(float* y, float a, const float* w, int n);
void ract_kernel_axpy_f16(float* y, float a, const uint16_t* w, int n);
void ract_kernel_axpy_i8(float* y, float a, const int8_t* w, int n);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // RACT_DEPLOY_KERNELS_H_
