// Every op of ract/math/ops.h gradient-checked by central finite differences in double,
// every element of every input, on tiny shapes: the loss is sum_k r_k * out_k with random r
// (so dout = r), or a weighted sum of the per-row outputs. Plus forward values by hand and the
// float paths against the double ones.
#include "ract/math/ops.h"

#include <doctest/doctest.h>
#include <math.h>
#include <string.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "ract/core/parallel.h"
#include "ract/core/rng.h"
#include "ract/math/vec.h"
#include "tests/numeric.h"

namespace {

using Vec = std::vector<double>;

Vec randn(ract_rng* r, size_t n, double scale = 1.0) {
  Vec v(n);
  for (double& x : v) x = ract_rng_normal(r) * scale;
  return v;
}

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); i++) s += a[i] * b[i];
  return s;
}

void check_grad(const char* what, Vec& x, const Vec& g, const std::function<double()>& loss) {
  REQUIRE(x.size() == g.size());
  fd_check(what, x.data(), g.data(), x.size(), loss, 1e-5, 1e-7);
}

// A small CSR batch with some empty rows and repeated columns across rows.
struct Csr {
  std::vector<int64_t> ptr;
  std::vector<int32_t> idx;
  std::vector<float> val;
  ract_sparse view(int cols, bool with_val) const {
    ract_sparse s = {(int)ptr.size() - 1, cols, ptr.data(), idx.data(),
                     with_val ? val.data() : nullptr};
    return s;
  }
};

Csr small_csr() {
  Csr c;
  c.ptr = {0, 3, 3, 5, 6};  // rows: {0,2,5}, {}, {1,5}, {6}
  c.idx = {0, 2, 5, 1, 5, 6};
  c.val = {0.5f, 1.5f, -1.0f, 2.0f, 0.25f, 1.0f};
  return c;
}

}  // namespace

TEST_CASE("ops: dense linear gradients (double) and the float BLIS path") {
  ract_rng r;
  ract_rng_seed(&r, 1, 0);
  const int B = 3, C = 4, O = 5;
  Vec inp = randn(&r, B * C), w = randn(&r, O * C), b = randn(&r, O), rr = randn(&r, B * O);
  Vec out(B * O);
  auto loss = [&]() {
    ract_linear_forward(out.data(), inp.data(), w.data(), b.data(), B, C, O);
    return dot(out, rr);
  };
  loss();
  // forward by hand
  for (int i = 0; i < B; i++) {
    for (int o = 0; o < O; o++) {
      double s = b[o];
      for (int c = 0; c < C; c++) s += inp[i * C + c] * w[o * C + c];
      CHECK(out[i * O + o] == doctest::Approx(s).epsilon(1e-12));
    }
  }
  Vec dinp(B * C, 0.5), dw(O * C, 0.25), db(O, -1.0);  // backward adds: start non-zero
  ract_linear_backward(dinp.data(), dw.data(), db.data(), rr.data(), inp.data(), w.data(), B, C, O);
  for (double& v : dinp) v -= 0.5;
  for (double& v : dw) v -= 0.25;
  for (double& v : db) v += 1.0;
  check_grad("linear dinp", inp, dinp, loss);
  check_grad("linear dw", w, dw, loss);
  check_grad("linear db", b, db, loss);

  // float path (ract_gemm) matches double
  std::vector<float> fi(inp.begin(), inp.end()), fw(w.begin(), w.end()), fb(b.begin(), b.end()),
      fr(rr.begin(), rr.end()), fo(B * O), fdi(B * C, 0.f), fdw(O * C, 0.f), fdb(O, 0.f);
  ract_linear_forward(fo.data(), fi.data(), fw.data(), fb.data(), B, C, O);
  for (int i = 0; i < B * O; i++) CHECK(fo[i] == doctest::Approx(out[i]).epsilon(1e-5));
  ract_linear_backward(fdi.data(), fdw.data(), fdb.data(), fr.data(), fi.data(), fw.data(), B, C,
                       O);
  for (int i = 0; i < B * C; i++) CHECK(fdi[i] == doctest::Approx(dinp[i]).epsilon(1e-5));
  for (int i = 0; i < O * C; i++) CHECK(fdw[i] == doctest::Approx(dw[i]).epsilon(1e-5));
}

TEST_CASE("ops: sparse linear gathers item rows; backward touches only those rows") {
  ract_rng r;
  ract_rng_seed(&r, 2, 0);
  Csr c = small_csr();
  const int I = 8, O = 3;
  for (int with_val = 0; with_val < 2; with_val++) {
    ract_sparse x = c.view(I, with_val);
    const int B = x.rows;
    Vec w = randn(&r, I * O), b = randn(&r, O), rr = randn(&r, B * O), out(B * O);
    auto loss = [&]() {
      ract_sparse_linear_forward(out.data(), x, w.data(), b.data(), O);
      return dot(out, rr);
    };
    loss();
    for (int i = 0; i < B; i++) {
      for (int o = 0; o < O; o++) {
        double s = b[o];
        for (int64_t e = c.ptr[i]; e < c.ptr[i + 1]; e++) {
          s += (with_val ? c.val[e] : 1.0) * w[c.idx[e] * O + o];
        }
        CHECK(out[i * O + o] == doctest::Approx(s).epsilon(1e-12));
      }
    }
    Vec dw(I * O, 0.0), db(O, 0.0);
    ract_sparse_linear_backward(dw.data(), db.data(), rr.data(), x, O);
    for (int o = 0; o < O; o++) {
      CHECK(dw[3 * O + o] == 0.0);  // items 3, 4, 7 are in no row
      CHECK(dw[4 * O + o] == 0.0);
      CHECK(dw[7 * O + o] == 0.0);
    }
    check_grad("sparse linear dw", w, dw, loss);
    check_grad("sparse linear db", b, db, loss);
    // the float path (multi-versioned inner loop) equals the double one
    loss();  // out as of the unperturbed weights
    std::vector<float> fw(w.begin(), w.end()), fb(b.begin(), b.end()), fr(rr.begin(), rr.end()),
        fo(B * O), fdw(I * O, 0.f), fdb(O, 0.f);
    ract_sparse_linear_forward(fo.data(), x, fw.data(), fb.data(), O);
    ract_sparse_linear_backward(fdw.data(), fdb.data(), fr.data(), x, O);
    for (int i = 0; i < B * O; i++) CHECK(fo[i] == doctest::Approx(out[i]).epsilon(1e-6));
    for (int i = 0; i < I * O; i++) CHECK(fdw[i] == doctest::Approx(dw[i]).epsilon(1e-6));
  }
}

TEST_CASE("ops: tanh, relu, sigmoid gradients") {
  ract_rng r;
  ract_rng_seed(&r, 3, 0);
  const size_t n = 11;
  Vec x = randn(&r, n, 2.0), rr = randn(&r, n), out(n);
  for (double& v : x) {
    if (fabs(v) < 0.05) v = 0.3;  // keep ReLU away from its kink
  }
  x[0] = 40.0;  // sigmoid saturation, both signs
  x[1] = -40.0;
  struct Act {
    const char* name;
    void (*f)(double*, const double*, size_t);
    void (*b)(double*, const double*, const double*, size_t);
  } acts[] = {{"tanh", ract_tanh_forward<double>, ract_tanh_backward<double>},
              {"relu", ract_relu_forward<double>, ract_relu_backward<double>},
              {"sigmoid", ract_sigmoid_forward<double>, ract_sigmoid_backward<double>}};
  for (const Act& a : acts) {
    auto loss = [&]() {
      a.f(out.data(), x.data(), n);
      return dot(out, rr);
    };
    loss();
    Vec dx(n, 0.0);
    a.b(dx.data(), rr.data(), out.data(), n);
    check_grad(a.name, x, dx, loss);
  }
  double o;
  double v = 0.5;
  ract_sigmoid_forward(&o, &v, 1);
  CHECK(o == doctest::Approx(1.0 / (1.0 + exp(-0.5))).epsilon(1e-14));
  v = -1000.0;
  ract_sigmoid_forward(&o, &v, 1);
  CHECK(o == 0.0);
  v = -0.5;
  ract_relu_forward(&o, &v, 1);
  CHECK(o == 0.0);
}

TEST_CASE("ops: BatchNorm train mode through the batch statistics, with and without affine") {
  ract_rng r;
  ract_rng_seed(&r, 4, 0);
  const int B = 5, C = 3;
  const double eps = 1e-5, mom = 0.1;
  for (int affine = 0; affine < 2; affine++) {
    Vec x = randn(&r, B * C, 2.0), g = randn(&r, C), be = randn(&r, C), rr = randn(&r, B * C);
    Vec out(B * C), mean(C), rstd(C);
    auto loss = [&]() {
      ract_batchnorm_train_forward<double>(out.data(), mean.data(), rstd.data(), nullptr, nullptr,
                                           x.data(), affine ? g.data() : nullptr,
                                           affine ? be.data() : nullptr, B, C, eps, mom, nullptr,
                                           nullptr);
      return dot(out, rr);
    };
    loss();
    Vec dx(B * C, 0.0), dg(C, 0.0), db(C, 0.0);
    ract_batchnorm_train_backward(dx.data(), dg.data(), db.data(), rr.data(), x.data(), mean.data(),
                                  rstd.data(), affine ? g.data() : nullptr, B, C, nullptr, nullptr);
    check_grad("bn train dx", x, dx, loss);
    if (affine) {
      check_grad("bn train dgamma", g, dg, loss);
      check_grad("bn train dbeta", be, db, loss);
    }
  }
  // Running statistics as PyTorch: momentum 0.1, unbiased variance; none for B = 1.
  const double x2[] = {1, 10, 3, 20, 5, 60};  // B = 3, C = 2
  double out[6], mean[2], rstd[2], rm[2] = {1, 2}, rv[2] = {3, 4};
  ract_batchnorm_train_forward<double>(out, mean, rstd, rm, rv, x2, nullptr, nullptr, 3, 2, eps,
                                       mom, nullptr, nullptr);
  CHECK(mean[0] == doctest::Approx(3.0));
  CHECK(rstd[0] == doctest::Approx(1.0 / sqrt(8.0 / 3.0 + eps)));
  CHECK(rm[0] == doctest::Approx(0.9 * 1 + 0.1 * 3));
  CHECK(rv[0] == doctest::Approx(0.9 * 3 + 0.1 * 4.0));  // unbiased var of {1,3,5} = 4
  CHECK(rm[1] == doctest::Approx(0.9 * 2 + 0.1 * 30));
  CHECK(rv[1] == doctest::Approx(0.9 * 4 + 0.1 * 700.0));  // {10,20,60}: mean 30, ss 1400
  CHECK(out[0] == doctest::Approx(-2.0 / sqrt(8.0 / 3.0 + eps)));
  double rm1[2] = {1, 2}, rv1[2] = {3, 4};
  ract_batchnorm_train_forward<double>(out, mean, rstd, rm1, rv1, x2, nullptr, nullptr, 1, 2, eps,
                                       mom, nullptr, nullptr);
  CHECK(rm1[0] == 1.0);
  CHECK(rv1[1] == 4.0);
  CHECK(out[0] == 0.0);
}

TEST_CASE("ops: BatchNorm eval mode") {
  ract_rng r;
  ract_rng_seed(&r, 5, 0);
  const int B = 4, C = 3;
  const double eps = 1e-5;
  Vec x = randn(&r, B * C), g = randn(&r, C), be = randn(&r, C), rr = randn(&r, B * C);
  Vec rm = randn(&r, C), rv = {0.5, 2.0, 3.0}, out(B * C);
  auto loss = [&]() {
    ract_batchnorm_eval_forward(out.data(), x.data(), rm.data(), rv.data(), g.data(), be.data(), B,
                                C, eps);
    return dot(out, rr);
  };
  loss();
  CHECK(out[4] == doctest::Approx(g[1] * (x[4] - rm[1]) / sqrt(2.0 + eps) + be[1]));
  Vec dx(B * C, 0.0), dg(C, 0.0), db(C, 0.0);
  ract_batchnorm_eval_backward(dx.data(), dg.data(), db.data(), rr.data(), x.data(), rm.data(),
                               rv.data(), g.data(), B, C, eps);
  check_grad("bn eval dx", x, dx, loss);
  check_grad("bn eval dgamma", g, dg, loss);
  check_grad("bn eval dbeta", be, db, loss);
}

TEST_CASE("ops: dropout on the values of a sparse batch compacts the kept entries") {
  // The rate: 4000 entries at p = 0.5 keep about half; the scale of each style.
  {
    std::vector<int64_t> bp = {0, 4000};
    std::vector<int32_t> bi(4000);
    for (int i = 0; i < 4000; i++) bi[i] = i;
    ract_sparse big = {1, 4000, bp.data(), bi.data(), nullptr};
    std::vector<int64_t> op(2);
    std::vector<int32_t> oi(4000);
    std::vector<float> ov(4000);
    std::vector<uint8_t> k(4000);
    for (int inverted = 0; inverted < 2; inverted++) {
      const float scale = ract_dropout_scale(0.5f, inverted);
      CHECK(scale == (inverted ? 2.0f : 1.0f));
      ract_rng m;
      ract_rng_seed(&m, 70, 0);  // one row, one stream
      ract_dropout_sparse_forward(op.data(), oi.data(), ov.data(), k.data(), big, 0.5f, scale,
                                  nullptr, &m);
      CHECK(op[1] > 1800);
      CHECK(op[1] < 2200);
      for (int64_t j = 0; j < op[1]; j++) CHECK(ov[j] == scale);
    }
  }
  Csr c = small_csr();
  ract_sparse x = c.view(8, true);
  const int64_t nnz = c.ptr.back();
  std::vector<int64_t> optr(x.rows + 1);
  std::vector<int32_t> oidx(nnz);
  std::vector<float> oval(nnz);
  std::vector<uint8_t> keep(nnz);
  // One stream per row: row r's mask is what its own stream draws, whatever the other rows
  // and the thread count; the streams are left advanced past the row's draws.
  ract_rng rr[4], again[4];
  for (int row = 0; row < 4; row++) ract_rng_seed(&rr[row], 8, (uint64_t)row);
  memcpy(again, rr, sizeof(rr));
  ract_parallel_set_threads(2);
  ract_parallel_set_grain(1);
  ract_dropout_sparse_forward(optr.data(), oidx.data(), oval.data(), keep.data(), x, 0.5f, 2.0f,
                              nullptr, rr);
  ract_parallel_set_threads(1);
  ract_parallel_set_grain(32768);
  for (int row = 0; row < 4; row++) {
    for (int64_t e = c.ptr[row]; e < c.ptr[row + 1]; e++) {
      CHECK(keep[e] == ract_rng_bernoulli(&again[row], 0.5f));
    }
    CHECK(ract_rng_u64(&again[row]) == ract_rng_u64(&rr[row]));
  }
  int64_t j = 0;
  for (int row = 0; row < x.rows; row++) {
    CHECK(optr[row] == j);
    for (int64_t e = c.ptr[row]; e < c.ptr[row + 1]; e++) {
      if (!keep[e]) continue;
      CHECK(oidx[j] == c.idx[e]);
      CHECK(oval[j] == 2.0f * c.val[e]);
      j++;
    }
  }
  CHECK(optr[x.rows] == j);
  // A fixed mask through apply, and the backward of the values.
  const uint8_t k2[] = {1, 0, 1, 0, 1, 1};
  ract_dropout_sparse_apply(optr.data(), oidx.data(), oval.data(), k2, x, 1.0f, nullptr);
  CHECK(optr[1] == 2);
  CHECK(optr[3] == 3);
  CHECK(optr[4] == 4);
  CHECK(oidx[1] == 5);
  CHECK(oval[1] == -1.0f);
  // A view of rows [2, 4): keep indexed from the view's first entry.
  ract_sparse v = ract_sparse_rows(x, 2, 2);
  const uint8_t k3[] = {0, 1, 1};
  ract_dropout_sparse_apply(optr.data(), oidx.data(), oval.data(), k3, v, 1.0f, nullptr);
  CHECK(optr[1] == 1);
  CHECK(optr[2] == 2);
  CHECK(oidx[0] == 5);
  CHECK(oidx[1] == 6);
  // Row multipliers (the input normalisation, fused): (val * scale) * mul, each rounded; any
  // thread count.
  const float mul[] = {0.3f, 1.7f, -0.5f, 3.1f};
  std::vector<float> plain(nnz), fused(nnz);
  std::vector<int64_t> p2(x.rows + 1);
  ract_dropout_sparse_apply(optr.data(), oidx.data(), plain.data(), k2, x, 1.5f, nullptr);
  for (int threads : {1, 2}) {
    ract_parallel_set_threads(threads);
    ract_parallel_set_grain(1);
    ract_dropout_sparse_apply(p2.data(), oidx.data(), fused.data(), k2, x, 1.5f, mul);
    for (int row = 0; row < x.rows; row++) {
      CHECK(p2[row + 1] == optr[row + 1]);
      for (int64_t q = p2[row]; q < p2[row + 1]; q++) CHECK(fused[q] == plain[q] * mul[row]);
    }
  }
  ract_parallel_set_threads(1);
  ract_parallel_set_grain(32768);
}

TEST_CASE("ops: log-softmax cross-entropy against a sparse target, added and in place") {
  ract_rng r;
  ract_rng_seed(&r, 9, 0);
  Csr c = small_csr();
  const int I = 8;
  for (int with_val = 0; with_val < 2; with_val++) {
    ract_sparse x = c.view(I, with_val);
    const int B = x.rows;
    Vec logits = randn(&r, B * I, 3.0), dl = randn(&r, B), loss(B), lse(B);
    logits[3] = 500.0;  // stable for large logits
    auto f = [&]() {
      ract_softmax_ce_forward(loss.data(), lse.data(), logits.data(), x);
      return dot(loss, dl);
    };
    f();
    for (int b = 0; b < B; b++) {  // forward by hand with a dense target
      double mx = -1e300, s = 0, ce = 0;
      for (int i = 0; i < I; i++) mx = fmax(mx, logits[b * I + i]);
      for (int i = 0; i < I; i++) s += exp(logits[b * I + i] - mx);
      for (int64_t e = c.ptr[b]; e < c.ptr[b + 1]; e++) {
        ce -= (with_val ? c.val[e] : 1.0) * (logits[b * I + c.idx[e]] - mx - log(s));
      }
      CHECK(lse[b] == doctest::Approx(mx + log(s)).epsilon(1e-12));
      CHECK(loss[b] == doctest::Approx(ce).epsilon(1e-12));
    }
    CHECK(loss[1] == 0.0);  // empty row
    Vec d(B * I, 0.0);
    ract_softmax_ce_backward(d.data(), dl.data(), logits.data(), lse.data(), x);
    Vec inplace = logits;
    ract_softmax_ce_backward(inplace.data(), dl.data(), inplace.data(), lse.data(), x);
    for (int i = 0; i < B * I; i++) CHECK(inplace[i] == doctest::Approx(d[i]).epsilon(1e-14));
    check_grad("softmax ce dlogits", logits, d, f);
  }
  // float in place too
  ract_sparse x = c.view(I, false);
  std::vector<float> lg(4 * I), ls(4), lo(4), dl(4, 1.0f), d2(4 * I, 0.0f);
  for (int i = 0; i < 4 * I; i++) lg[i] = (float)(i % 5) * 0.3f;
  ract_softmax_ce_forward(lo.data(), ls.data(), lg.data(), x);
  ract_softmax_ce_backward(d2.data(), dl.data(), lg.data(), ls.data(), x);
  ract_softmax_ce_backward(lg.data(), dl.data(), lg.data(), ls.data(), x);
  for (int i = 0; i < 4 * I; i++) CHECK(lg[i] == d2[i]);
}

TEST_CASE("ops: KL of a diagonal Gaussian and the reparameterisation, halves of one buffer") {
  ract_rng r;
  ract_rng_seed(&r, 10, 0);
  const int B = 3, L = 4, ld = 2 * L;
  Vec head = randn(&r, B * ld, 0.7), eps = randn(&r, B * L), dk = randn(&r, B);
  Vec rz = randn(&r, B * L), kl(B), z(B * L);
  auto fkl = [&]() {
    ract_kl_forward(kl.data(), head.data(), head.data() + L, B, L, ld);
    return dot(kl, dk);
  };
  fkl();
  double s = 0;
  for (int j = 0; j < L; j++) {
    double m = head[ld + j], lv = head[ld + L + j];
    s += 1 + lv - m * m - exp(lv);
  }
  CHECK(kl[1] == doctest::Approx(-0.5 * s).epsilon(1e-13));
  Vec dh(B * ld, 0.0);
  ract_kl_backward(dh.data(), dh.data() + L, dk.data(), head.data(), head.data() + L, B, L, ld);
  check_grad("kl dmu/dlogvar", head, dh, fkl);

  auto fz = [&]() {
    ract_reparam_forward(z.data(), head.data(), head.data() + L, eps.data(), B, L, ld);
    return dot(z, rz);
  };
  fz();
  CHECK(z[L + 2] == doctest::Approx(head[ld + 2] + eps[L + 2] * exp(0.5 * head[ld + L + 2])));
  Vec dh2(B * ld, 0.0);
  ract_reparam_backward(dh2.data(), dh2.data() + L, rz.data(), head.data() + L, eps.data(), B, L,
                        ld);
  check_grad("reparam dmu/dlogvar", head, dh2, fz);

  std::vector<float> e(20000);
  ract_normal_fill(e.data(), e.size(), 0.01f, &r);
  double m2 = 0;
  for (float v : e) m2 += (double)v * v;
  CHECK(sqrt(m2 / e.size()) == doctest::Approx(0.01).epsilon(0.03));
  // The uniforms of ract_rng_normal in order: float within 1e-6 (relative, and absolute
  // near 0) of its double values; double exactly them. The rng ends in the same state.
  ract_rng a, b;
  ract_rng_seed(&a, 11, 3);
  ract_rng_seed(&b, 11, 3);
  std::vector<float> f(300001);  // many 16-lane blocks and a tail
  ract_normal_fill(f.data(), f.size(), 0.5f, &a);
  double worst = 0, big = 0;
  for (float v : f) {
    const double ref = ract_rng_normal(&b) * 0.5;
    worst = std::max(worst, fabs(v - ref) / (1 + fabs(ref)));
    big = std::max(big, fabs(ref));
  }
  MESSAGE("normal_fill float max error " << worst);
  CHECK(worst < 1e-6);
  CHECK(worst > 0);  // the float path is the one tested
  CHECK(big > 2.0);  // the tail (|z| > 4) was covered
  CHECK(ract_rng_u64(&a) == ract_rng_u64(&b));
  std::vector<double> d(999);
  ract_normal_fill(d.data(), d.size(), 0.5f, &a);
  int same = 0;
  for (double v : d) same += v == ract_rng_normal(&b) * 0.5f;
  CHECK(same == (int)d.size());
}

TEST_CASE("ops: mean-squared error") {
  ract_rng r;
  ract_rng_seed(&r, 11, 0);
  const int n = 6;
  Vec p = randn(&r, n), t = randn(&r, n);
  auto f = [&]() { return 3.0 * ract_mse_forward(p.data(), t.data(), n); };
  double want = 0;
  for (int i = 0; i < n; i++) want += (p[i] - t[i]) * (p[i] - t[i]) / n;
  CHECK(ract_mse_forward(p.data(), t.data(), n) == doctest::Approx(want).epsilon(1e-14));
  Vec dp(n, 0.0);
  ract_mse_backward(dp.data(), 3.0, p.data(), t.data(), n);
  check_grad("mse dpred", p, dp, f);
}

TEST_CASE("ops: float exp and tanh keep their accuracy (relative error bounds)") {
  // exp over the range the softmax uses (l - max <= 0) and beyond, dense steps.
  const size_t n = 200000;
  std::vector<float> x(n), y(n);
  for (size_t i = 0; i < n; i++) x[i] = -87.0f + 175.5f * (float)i / (float)(n - 1);
  ract_vec_exp_sum(y.data(), x.data(), (int)n, 0.0f);  // stores exp(x - 0)
  double worst = 0;
  for (size_t i = 0; i < n; i++) {
    const double want = exp((double)x[i]);
    worst = fmax(worst, fabs(y[i] - want) / want);
  }
  MESSAGE("exp max relative error " << worst);
  CHECK(worst < 3e-7);
  // Edges: underflow to 0, overflow to inf, NaN stays NaN, exp(0) = 1 exactly.
  const float edge_in[] = {-1000.0f, -88.0f, 0.0f, 89.0f, INFINITY, -INFINITY, NAN, 1.0f};
  float edge_out[8];
  ract_vec_exp_sum(edge_out, edge_in, 8, 0.0f);
  CHECK(edge_out[0] == 0.0f);
  CHECK(edge_out[1] == 0.0f);
  CHECK(edge_out[2] == 1.0f);
  CHECK(edge_out[3] == INFINITY);
  CHECK(edge_out[4] == INFINITY);
  CHECK(edge_out[5] == 0.0f);
  CHECK(edge_out[6] != edge_out[6]);
  CHECK(edge_out[7] == doctest::Approx(2.718281828).epsilon(3e-7));
  // tanh: small arguments (where 1 - 2/(e+1) would cancel) through large ones, odd-length
  // arrays (the vector tail).
  const size_t m = 100003;
  std::vector<float> a(m), t(m);
  for (size_t i = 0; i < m; i++) {
    const double u = (double)i / (m - 1);
    a[i] = (float)((i % 2 ? -1 : 1) * (u < 0.5 ? 1e-6 * pow(1e6, 2 * u) : 12.0 * (2 * u - 1)));
  }
  ract_tanh_forward(t.data(), a.data(), m);
  double tw = 0;
  for (size_t i = 0; i < m; i++) {
    const double want = tanh((double)a[i]);
    if (want != 0) tw = fmax(tw, fabs(t[i] - want) / fabs(want));
  }
  MESSAGE("tanh max relative error " << tw);
  CHECK(tw < 4e-7);
  float big[3] = {50.0f, -50.0f, NAN}, tb[3];
  ract_tanh_forward(tb, big, 3);
  CHECK(tb[0] == 1.0f);
  CHECK(tb[1] == -1.0f);
  CHECK(tb[2] != tb[2]);
}

TEST_CASE("ops: fused softmax cross-entropy equals forward + backward (float and double)") {
  ract_rng r;
  ract_rng_seed(&r, 31, 0);
  // Rows longer than a vector block, with a tail; a sparse target of a few items per row.
  const int B = 5, I = 1000 + 7;
  std::vector<int64_t> ptr(B + 1, 0);
  std::vector<int32_t> idx;
  for (int b = 0; b < B; b++) {
    for (int i = b; i < I; i += 37 + b) idx.push_back(i);
    ptr[b + 1] = (int64_t)idx.size();
  }
  ract_sparse x = {B, I, ptr.data(), idx.data(), nullptr};
  std::vector<float> lg(B * I), dl(B);
  for (float& v : lg) v = (float)(ract_rng_normal(&r) * 4.0);
  for (float& v : dl) v = (float)ract_rng_normal(&r);
  std::vector<float> loss(B), lse(B), d(B * I, 0.0f), loss2(B), lse2(B), f = lg;
  ract_softmax_ce_forward(loss.data(), lse.data(), lg.data(), x);
  ract_softmax_ce_backward(d.data(), dl.data(), lg.data(), lse.data(), x);
  ract_softmax_ce_fused(loss2.data(), lse2.data(), f.data(), dl.data(), x, (const float*)nullptr);
  // A bias left out of the logits and given to the sweep: the same bits as logits + bias.
  {
    std::vector<float> bias(I), unbiased(B * I), biased(B * I), l3(B), s3(B), l4(B), s4(B);
    for (float& v : bias) v = (float)ract_rng_normal(&r);
    for (int i = 0; i < B * I; i++) {
      unbiased[i] = lg[i];
      biased[i] = lg[i] + bias[i % I];
    }
    ract_softmax_ce_fused(l3.data(), s3.data(), unbiased.data(), dl.data(), x, bias.data());
    ract_softmax_ce_fused(l4.data(), s4.data(), biased.data(), dl.data(), x, (const float*)nullptr);
    CHECK(memcmp(unbiased.data(), biased.data(), sizeof(float) * B * I) == 0);
    CHECK(memcmp(l3.data(), l4.data(), sizeof(float) * B) == 0);
    CHECK(memcmp(s3.data(), s4.data(), sizeof(float) * B) == 0);
    CHECK(l3[0] != loss2[0]);  // the bias mattered
  }
  // Against the double op on the same inputs.
  Vec lgd(lg.begin(), lg.end()), dld(dl.begin(), dl.end()), lossd(B), lsed(B);
  ract_softmax_ce_fused(lossd.data(), lsed.data(), lgd.data(), dld.data(), x,
                        (const double*)nullptr);
  for (int b = 0; b < B; b++) {
    CHECK(loss2[b] == loss[b]);
    CHECK(lse2[b] == lse[b]);
    CHECK(loss2[b] == doctest::Approx(lossd[b]).epsilon(1e-6));
  }
  double worst = 0;
  for (int i = 0; i < B * I; i++) {
    worst = fmax(worst, fabs(f[i] - d[i]) / fmax(1.0, fabs(d[i])));
    CHECK(f[i] == doctest::Approx(lgd[i]).epsilon(1e-5).scale(1e-6));
  }
  CHECK(worst < 1e-6);  // relative to max(1, |dlogit|)
}

namespace {

// Double values that are exactly floats (so float and double ops see the same inputs), and
// their float copy.
struct Pair {
  Vec d;
  std::vector<float> f;
};
Pair pair_randn(ract_rng* r, size_t n, double scale) {
  Pair p;
  p.f.resize(n);
  p.d.resize(n);
  for (size_t i = 0; i < n; i++) {
    p.f[i] = (float)(ract_rng_normal(r) * scale);
    p.d[i] = p.f[i];
  }
  return p;
}
Pair pair_fill(size_t n, double v) {
  Pair p;
  p.f.assign(n, (float)v);
  p.d.assign(n, (double)(float)v);
  return p;
}
double same(const std::string& what, const Pair& p, double tol, bool may_be_zero = false) {
  return same_tensor(what, p.f.data(), p.d.data(), p.d.size(), tol, may_be_zero);
}

// Rows of 0, 1, 250 and a few other lengths over `items` columns, distinct sorted items.
Csr wide_csr(ract_rng* r, int items) {
  Csr c;
  c.ptr = {0};
  for (int n : {0, 1, 250, 33, 7, 120}) {
    std::vector<int> all(items);
    for (int i = 0; i < items; i++) all[i] = i;
    ract_rng_shuffle(r, all.data(), items);
    std::sort(all.begin(), all.begin() + n);
    for (int j = 0; j < n; j++) {
      c.idx.push_back(all[j]);
      c.val.push_back((float)(0.5 + ract_rng_uniform_double(r)));
    }
    c.ptr.push_back((int64_t)c.idx.size());
  }
  return c;
}

}  // namespace

TEST_CASE("ops: float equals double at the widths that run every vector block and tail") {
  // The double ops are the finite-difference-checked ones; the float ones run BLIS and the
  // 16-lane kernels. Widths 600 (= 9 x 64 + 16 + 8) and 67 (= 64 + 3) run the sparse
  // gather/scatter's 64- and 16-wide blocks and the scalar tail; 1007 items the 16-lane
  // softmax blocks and a tail of 15; rows of 0, 1 and 250 entries; 1 and 2 threads. Every
  // output and gradient tensor agrees to a small fraction of its own scale.
  ract_rng r;
  ract_rng_seed(&r, 51, 0);
  double worst = 0;
  auto note = [&](double v) { worst = fmax(worst, v); };
  const double tol = 1e-5;
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    ract_parallel_set_threads(threads);
    ract_parallel_set_grain(threads > 1 ? 1 : 32768);
    // Dense linear (B, C) x (O, C)^T, with the bias given, left out then added, and backward.
    const int shapes[][3] = {{9, 67, 600}, {5, 600, 67}, {3, 600, 1007}, {33, 17, 1}};
    for (const auto& sh : shapes) {
      const int B = sh[0], C = sh[1], O = sh[2];
      CAPTURE(O);
      Pair inp = pair_randn(&r, (size_t)B * C, 1), w = pair_randn(&r, (size_t)O * C, 0.1),
           b = pair_randn(&r, O, 1), dout = pair_randn(&r, (size_t)B * O, 1),
           out = pair_fill((size_t)B * O, 0), out2 = out, dinp = pair_fill((size_t)B * C, 0.5),
           dw = pair_fill((size_t)O * C, 0.25), db = pair_fill(O, -1);
      ract_linear_forward(out.f.data(), inp.f.data(), w.f.data(), b.f.data(), B, C, O);
      ract_linear_forward(out.d.data(), inp.d.data(), w.d.data(), b.d.data(), B, C, O);
      note(same("linear out", out, tol));
      ract_linear_forward(out2.f.data(), inp.f.data(), w.f.data(), (const float*)nullptr, B, C, O);
      ract_linear_add_bias(out2.f.data(), b.f.data(), B, O);
      ract_linear_forward(out2.d.data(), inp.d.data(), w.d.data(), (const double*)nullptr, B, C, O);
      ract_linear_add_bias(out2.d.data(), b.d.data(), B, O);
      note(same("linear out, bias added after", out2, tol));
      ract_linear_backward(dinp.f.data(), dw.f.data(), db.f.data(), dout.f.data(), inp.f.data(),
                           w.f.data(), B, C, O);
      ract_linear_backward(dinp.d.data(), dw.d.data(), db.d.data(), dout.d.data(), inp.d.data(),
                           w.d.data(), B, C, O);
      note(same("linear dinp", dinp, tol));
      note(same("linear dw", dw, tol));
      note(same("linear db", db, tol));
    }
    // Sparse linear over 1007 items, with and without values.
    const int I = 1007;
    Csr c = wide_csr(&r, I);
    for (int with_val = 0; with_val < 2; with_val++) {
      const ract_sparse x = c.view(I, with_val);
      for (int O : {600, 67, 64, 16, 80, 1}) {
        CAPTURE(O);
        CAPTURE(with_val);
        Pair w = pair_randn(&r, (size_t)I * O, 0.1), b = pair_randn(&r, O, 1),
             dout = pair_randn(&r, (size_t)x.rows * O, 1), out = pair_fill((size_t)x.rows * O, 0),
             dw = pair_fill((size_t)I * O, 0.5), db = pair_fill(O, 0.25);
        ract_sparse_linear_forward(out.f.data(), x, w.f.data(), b.f.data(), O);
        ract_sparse_linear_forward(out.d.data(), x, w.d.data(), b.d.data(), O);
        note(same("sparse linear out", out, tol));
        ract_sparse_linear_backward(dw.f.data(), db.f.data(), dout.f.data(), x, O);
        ract_sparse_linear_backward(dw.d.data(), db.d.data(), dout.d.data(), x, O);
        note(same("sparse linear dw", dw, tol));
        note(same("sparse linear db", db, tol));
        // A view of the rows after the empty one (x.ptr[0] != 0).
        const ract_sparse v = ract_sparse_rows(x, 1, x.rows - 1);
        Pair ov = pair_fill((size_t)v.rows * O, 0);
        ract_sparse_linear_forward(ov.f.data(), v, w.f.data(), (const float*)nullptr, O);
        ract_sparse_linear_forward(ov.d.data(), v, w.d.data(), (const double*)nullptr, O);
        note(same("sparse linear out, row view", ov, tol));
      }
    }
    // Element-wise activations over 3 rows of 1007 and a tail.
    {
      const size_t n = 3 * 1007 + 5;
      Pair inp = pair_randn(&r, n, 2), dout = pair_randn(&r, n, 1);
      struct Act {
        const char* name;
        void (*ff)(float*, const float*, size_t);
        void (*fd)(double*, const double*, size_t);
        void (*bf)(float*, const float*, const float*, size_t);
        void (*bd)(double*, const double*, const double*, size_t);
      } acts[] = {{"tanh", ract_tanh_forward<float>, ract_tanh_forward<double>,
                   ract_tanh_backward<float>, ract_tanh_backward<double>},
                  {"relu", ract_relu_forward<float>, ract_relu_forward<double>,
                   ract_relu_backward<float>, ract_relu_backward<double>},
                  {"sigmoid", ract_sigmoid_forward<float>, ract_sigmoid_forward<double>,
                   ract_sigmoid_backward<float>, ract_sigmoid_backward<double>}};
      for (const Act& a : acts) {
        Pair out = pair_fill(n, 0), din = pair_fill(n, 0.5);
        a.ff(out.f.data(), inp.f.data(), n);
        a.fd(out.d.data(), inp.d.data(), n);
        note(same(std::string(a.name) + " out", out, tol));
        // The backward reads the output: give both the same (float) output.
        for (size_t i = 0; i < n; i++) out.d[i] = out.f[i];
        a.bf(din.f.data(), dout.f.data(), out.f.data(), n);
        a.bd(din.d.data(), dout.d.data(), out.d.data(), n);
        note(same(std::string(a.name) + " dinp", din, tol));
      }
    }
    // BatchNorm, the critic's 3 features and a wider case, train and eval mode.
    for (const auto& bc : {std::pair<int, int>{100, 3}, std::pair<int, int>{33, 67}}) {
      const int B = bc.first, C = bc.second;
      Pair inp = pair_randn(&r, (size_t)B * C, 3), g = pair_randn(&r, C, 1),
           be = pair_randn(&r, C, 1), dout = pair_randn(&r, (size_t)B * C, 1),
           out = pair_fill((size_t)B * C, 0), mean = pair_fill(C, 0), rstd = pair_fill(C, 0),
           rm = pair_fill(C, 0.5), rv = pair_fill(C, 2), din = pair_fill((size_t)B * C, 0),
           dg = pair_fill(C, 0), db = pair_fill(C, 0);
      ract_batchnorm_train_forward<float>(out.f.data(), mean.f.data(), rstd.f.data(), rm.f.data(),
                                          rv.f.data(), inp.f.data(), g.f.data(), be.f.data(), B, C,
                                          1e-5f, 0.1f, nullptr, nullptr);
      ract_batchnorm_train_forward<double>(out.d.data(), mean.d.data(), rstd.d.data(), rm.d.data(),
                                           rv.d.data(), inp.d.data(), g.d.data(), be.d.data(), B, C,
                                           1e-5, 0.1, nullptr, nullptr);
      note(same("bn train out", out, tol));
      note(same("bn running mean", rm, tol));
      note(same("bn running var", rv, tol));
      ract_batchnorm_train_backward(din.f.data(), dg.f.data(), db.f.data(), dout.f.data(),
                                    inp.f.data(), mean.f.data(), rstd.f.data(), g.f.data(), B, C,
                                    nullptr, nullptr);
      ract_batchnorm_train_backward(din.d.data(), dg.d.data(), db.d.data(), dout.d.data(),
                                    inp.d.data(), mean.d.data(), rstd.d.data(), g.d.data(), B, C,
                                    nullptr, nullptr);
      note(same("bn train dinp", din, 1e-5));
      note(same("bn train dgamma", dg, tol));
      note(same("bn train dbeta", db, tol));
      Pair eo = pair_fill((size_t)B * C, 0), ed = pair_fill((size_t)B * C, 0),
           edg = pair_fill(C, 0), edb = pair_fill(C, 0);
      ract_batchnorm_eval_forward(eo.f.data(), inp.f.data(), rm.f.data(), rv.f.data(), g.f.data(),
                                  be.f.data(), B, C, 1e-5f);
      for (int i = 0; i < C; i++) rm.d[i] = rm.f[i], rv.d[i] = rv.f[i];
      ract_batchnorm_eval_forward(eo.d.data(), inp.d.data(), rm.d.data(), rv.d.data(), g.d.data(),
                                  be.d.data(), B, C, 1e-5);
      note(same("bn eval out", eo, tol));
      ract_batchnorm_eval_backward(ed.f.data(), edg.f.data(), edb.f.data(), dout.f.data(),
                                   inp.f.data(), rm.f.data(), rv.f.data(), g.f.data(), B, C, 1e-5f);
      ract_batchnorm_eval_backward(ed.d.data(), edg.d.data(), edb.d.data(), dout.d.data(),
                                   inp.d.data(), rm.d.data(), rv.d.data(), g.d.data(), B, C, 1e-5);
      note(same("bn eval dinp", ed, tol));
      note(same("bn eval dgamma", edg, tol));
      note(same("bn eval dbeta", edb, tol));
    }
    // Softmax cross-entropy over 1007 items: forward, backward, and the fused sweep with a
    // bias; rows of 0, 1, 250 ... targets.
    {
      const ract_sparse x = c.view(I, false);
      const int B = x.rows;
      Pair lg = pair_randn(&r, (size_t)B * I, 3), dl = pair_randn(&r, B, 1),
           bias = pair_randn(&r, I, 1), loss = pair_fill(B, 0), lse = pair_fill(B, 0),
           d = pair_fill((size_t)B * I, 0.5);
      ract_softmax_ce_forward(loss.f.data(), lse.f.data(), lg.f.data(), x);
      ract_softmax_ce_forward(loss.d.data(), lse.d.data(), lg.d.data(), x);
      note(same("softmax ce loss", loss, tol));
      note(same("softmax ce lse", lse, tol));
      ract_softmax_ce_backward(d.f.data(), dl.f.data(), lg.f.data(), lse.f.data(), x);
      for (int b = 0; b < B; b++) lse.d[b] = lse.f[b];
      ract_softmax_ce_backward(d.d.data(), dl.d.data(), lg.d.data(), lse.d.data(), x);
      note(same("softmax ce dlogits", d, tol));
      Pair fl = lg, floss = pair_fill(B, 0), flse = pair_fill(B, 0);
      ract_softmax_ce_fused(floss.f.data(), flse.f.data(), fl.f.data(), dl.f.data(), x,
                            bias.f.data());
      ract_softmax_ce_fused(floss.d.data(), flse.d.data(), fl.d.data(), dl.d.data(), x,
                            bias.d.data());
      note(same("fused softmax ce loss", floss, tol));
      note(same("fused softmax ce dlogits", fl, tol));
    }
    // KL and the reparameterisation on (B, 2L) heads: L = 128 (recbole) and 200 (paper).
    for (int L : {128, 200, 3}) {
      const int B = 7, ld = 2 * L;
      Pair head = pair_randn(&r, (size_t)B * ld, 0.7), eps = pair_randn(&r, (size_t)B * L, 1),
           dkl = pair_randn(&r, B, 1), dz = pair_randn(&r, (size_t)B * L, 1), kl = pair_fill(B, 0),
           z = pair_fill((size_t)B * L, 0), dh = pair_fill((size_t)B * ld, 0.5);
      ract_kl_forward(kl.f.data(), head.f.data(), head.f.data() + L, B, L, ld);
      ract_kl_forward(kl.d.data(), head.d.data(), head.d.data() + L, B, L, ld);
      note(same("kl", kl, tol));
      ract_reparam_forward(z.f.data(), head.f.data(), head.f.data() + L, eps.f.data(), B, L, ld);
      ract_reparam_forward(z.d.data(), head.d.data(), head.d.data() + L, eps.d.data(), B, L, ld);
      note(same("reparam z", z, tol));
      ract_kl_backward(dh.f.data(), dh.f.data() + L, dkl.f.data(), head.f.data(), head.f.data() + L,
                       B, L, ld);
      ract_kl_backward(dh.d.data(), dh.d.data() + L, dkl.d.data(), head.d.data(), head.d.data() + L,
                       B, L, ld);
      ract_reparam_backward(dh.f.data(), dh.f.data() + L, dz.f.data(), head.f.data() + L,
                            eps.f.data(), B, L, ld);
      ract_reparam_backward(dh.d.data(), dh.d.data() + L, dz.d.data(), head.d.data() + L,
                            eps.d.data(), B, L, ld);
      note(same("kl + reparam dhead", dh, tol));
    }
    // Mean-squared error.
    {
      const int n = 2051;
      Pair p = pair_randn(&r, n, 1), t = pair_randn(&r, n, 1), dp = pair_fill(n, 0.5);
      const float mf = ract_mse_forward(p.f.data(), t.f.data(), n);
      const double md = ract_mse_forward(p.d.data(), t.d.data(), n);
      CHECK(mf == doctest::Approx(md).epsilon(1e-6));
      ract_mse_backward(dp.f.data(), 0.7f, p.f.data(), t.f.data(), n);
      ract_mse_backward(dp.d.data(), (double)0.7f, p.d.data(), t.d.data(), n);
      note(same("mse dpred", dp, tol));
    }
  }
  MESSAGE("float ops: worst error " << worst << " of the tensor's scale");
  ract_parallel_set_threads(1);
  ract_parallel_set_grain(32768);
}
