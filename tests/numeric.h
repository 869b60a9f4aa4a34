// Numeric checks shared by the suites: central finite differences against an analytic
// gradient, and a float result against the double one, per tensor.
#ifndef RACT_TESTS_NUMERIC_H_
#define RACT_TESTS_NUMERIC_H_

#include <doctest/doctest.h>
#include <math.h>

#include <functional>
#include <string>

// Central differences of loss() w.r.t. each of n parameters at p against the gradient g:
// |fd - g| <= tol * (1 + |fd|) for every element. Returns the number of elements off.
inline int fd_check(const std::string& what, double* p, const double* g, size_t n,
                    const std::function<double()>& loss, double h = 1e-6, double tol = 1e-6) {
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    const double save = p[i];
    p[i] = save + h;
    const double lp = loss();
    p[i] = save - h;
    const double lm = loss();
    p[i] = save;
    const double fd = (lp - lm) / (2 * h);
    if (!(fabs(fd - g[i]) <= tol * (1 + fabs(fd)))) {
      if (bad++ < 5) MESSAGE(what << "[" << i << "]: analytic " << g[i] << " numeric " << fd);
    }
  }
  CHECK_MESSAGE(bad == 0, what << ": " << bad << " of " << n << " elements off");
  return bad;
}

// Float against double, per tensor: max |f - d| <= tol * (that tensor's own max |d|), and the
// tensor is not all zero unless `may_be_zero`. Returns the worst ratio max|f - d| / max|d|.
inline double same_tensor(const std::string& what, const float* f, const double* d, size_t n,
                          double tol, bool may_be_zero = false) {
  double scale = 0, worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(d[i]));
  for (size_t i = 0; i < n; i++) {
    const double e = fabs((double)f[i] - d[i]);
    if (e > worst || e != e) worst = e, at = i;
  }
  if (scale == 0) {
    CHECK_MESSAGE(may_be_zero, what << ": all zero");
    CHECK_MESSAGE(worst == 0, what << ": float " << f[at] << " where double is all zero");
    return 0;
  }
  const double ratio = worst / scale;
  CHECK_MESSAGE(ratio <= tol, what << "[" << at << "]: float " << f[at] << " double " << d[at]
                                   << ", off by " << ratio << " of the tensor's scale " << scale);
  return ratio;
}

#endif  // RACT_TESTS_NUMERIC_H_
