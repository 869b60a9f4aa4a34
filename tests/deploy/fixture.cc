// Test fixture: see fixture.h.
#include "tests/deploy/fixture.h"

#include <doctest/doctest.h>
#include <math.h>
#include <string.h>

#include <algorithm>
#include <set>

#include "ract/core/rng.h"
#include "ract/deploy/model_file_write.h"

namespace fixture {

Blob Blob::make(size_t n) {
  Blob b;
  b.mem.reset((uint8_t*)aligned_alloc(64, ((n + 63) / 64) * 64 + (n == 0 ? 64 : 0)));
  b.size = n;
  REQUIRE(b.mem);
  return b;
}

Blob Blob::copy() const {
  Blob b = make(size);
  memcpy(b.data(), data(), size);
  return b;
}

Blob Blob::prefix(size_t n) const {
  // Exactly n bytes from malloc-like memory so ASan flags any read past the prefix.
  Blob b;
  b.mem.reset((uint8_t*)aligned_alloc(16, n == 0 ? 16 : ((n + 15) / 16) * 16));
  b.size = n;
  memcpy(b.data(), data(), n);
  return b;
}

void Model::add(const std::string& name, std::vector<int64_t> shape, std::vector<float> v) {
  names.push_back(name);
  shapes.push_back(std::move(shape));
  values.push_back(std::move(v));
}

const std::vector<float>& Model::get(const std::string& name) const {
  for (size_t i = 0; i < names.size(); i++) {
    if (names[i] == name) return values[i];
  }
  FAIL("no tensor " << name);
  return values[0];
}

ract_file_desc Model::desc(int kind) {
  tensors_.clear();
  for (size_t i = 0; i < names.size(); i++) {
    ract_file_tensor t{};
    t.name = names[i].c_str();
    t.n_dims = (int32_t)shapes[i].size();
    for (size_t k = 0; k < shapes[i].size(); k++) t.dims[k] = shapes[i][k];
    t.data = values[i].data();
    tensors_.push_back(t);
  }
  token_ptrs_.clear();
  for (auto& s : tokens) token_ptrs_.push_back(s.c_str());
  meta_.clear();
  for (auto& kv : meta) meta_.push_back({kv.first.c_str(), kv.second.c_str()});
  ract_file_desc d{};
  d.kind = kind;
  d.dims = dims;
  d.tensors = tensors_.data();
  d.n_tensors = (int32_t)tensors_.size();
  d.tokens = tokens.empty() ? nullptr : token_ptrs_.data();
  d.meta = meta_.data();
  d.n_meta = (int32_t)meta_.size();
  if (kind == RACT_FILE_CHECKPOINT) {
    d.state = state.data();
    d.state_bytes = state.size();
  }
  return d;
}

static std::vector<float> randn(ract_rng* r, size_t n, float scale) {
  std::vector<float> v(n);
  for (auto& x : v) x = (float)ract_rng_normal(r) * scale;
  return v;
}

Model make_model(int n_items, std::vector<int> hidden, int latent, float input_scale, int kind,
                 uint64_t seed) {
  Model m;
  ract_rng r;
  ract_rng_seed(&r, seed, 7);
  int k = (int)hidden.size();
  m.dims.n_items = n_items;
  m.dims.latent = latent;
  m.dims.n_hidden = k;
  for (int j = 0; j < k; j++) m.dims.hidden[j] = hidden[j];
  m.dims.preset = RACT_PRESET_RECBOLE;
  m.dims.input_scale = input_scale;
  auto layer = [&](const std::string& p, int64_t out, int64_t in, bool item_major) {
    float s = 1.5f / sqrtf((float)(item_major ? 8 : in));
    int64_t rows = item_major ? in : out, cols = item_major ? out : in;
    m.add(p + ".w", {rows, cols}, randn(&r, (size_t)(rows * cols), s));
    m.add(p + ".b", {out}, randn(&r, (size_t)out, 0.1f));
  };
  layer("enc.0", hidden[0], n_items, true);
  for (int j = 1; j < k; j++) layer("enc." + std::to_string(j), hidden[j], hidden[j - 1], false);
  if (kind == RACT_FILE_INFERENCE) {
    layer("mu", latent, hidden[k - 1], false);
  } else {
    layer("enc.head", 2 * latent, hidden[k - 1], false);
  }
  layer("dec.0", hidden[k - 1], latent, false);
  for (int j = 1; j < k; j++) {
    layer("dec." + std::to_string(j), hidden[k - 1 - j], hidden[k - j], false);
  }
  layer("dec.out", n_items, hidden[0], false);
  if (kind == RACT_FILE_CHECKPOINT) {
    size_t n = m.names.size();
    for (size_t i = 0; i < n; i++) {
      m.add("adam.m." + m.names[i], m.shapes[i], randn(&r, m.values[i].size(), 0.01f));
    }
    m.add("critic.bn.mean", {3}, {0.5f, 1.5f, 2.5f});
    m.add("critic.bn.var", {3}, {1.0f, 2.0f, 3.0f});
    m.add("counters", {1, 2, 2}, {1, 2, 3, 4});
    static const char kState[] = "stage=critic epoch=3 rng=\x01\x02\x00\xff";
    m.state = std::string(kState, sizeof(kState) - 1);  // 29 bytes, one of them NUL
  }
  for (int i = 0; i < n_items; i++) m.tokens.push_back(std::to_string(3 * i + 1));
  m.meta = {{"dataset", "synthetic"},
            {"n_users", "42"},
            {"test.ndcg@10", "0.4321"},
            {"date", "2026-11-29"}};
  return m;
}

Blob write(Model& m, int kind, ract_file_dtype dtype) {
  ract_file_desc d = m.desc(kind);
  size_t bytes = 0;
  ract_error err{};
  ract_status s = ract_file_bytes(&d, dtype, &bytes, &err);
  INFO(err.msg);
  REQUIRE(s == RACT_OK);
  Blob b = Blob::make(bytes);
  size_t written = 0;
  s = ract_file_write_buffer(b.data(), bytes, &d, dtype, &written, &err);
  INFO(err.msg);
  REQUIRE(s == RACT_OK);
  REQUIRE(written == bytes);
  return b;
}

Weights weights_of(const Model& m) {
  Weights w;
  for (size_t i = 0; i < m.names.size(); i++) w[m.names[i]] = m.values[i];
  return w;
}

Weights weights_of(const ract_file& f) {
  Weights w;
  for (int32_t i = 0; i < f.n_tensors; i++) {
    ract_file_tensor_view t;
    REQUIRE(ract_file_tensor_at(&f, i, &t, nullptr) == RACT_OK);
    std::vector<float> v((size_t)ract_file_tensor_size(&t));
    ract_file_tensor_f32(&t, v.data());
    w[t.name] = v;
  }
  return w;
}

// y = W x + b, W out x in.
static std::vector<double> dense(const std::vector<float>& W, const std::vector<float>& b,
                                 const std::vector<double>& x, bool act) {
  size_t out = b.size(), in = x.size();
  REQUIRE(W.size() == out * in);
  std::vector<double> y(out);
  for (size_t o = 0; o < out; o++) {
    double s = b[o];
    for (size_t i = 0; i < in; i++) s += (double)W[o * in + i] * x[i];
    y[o] = act ? tanh(s) : s;
  }
  return y;
}

std::vector<double> reference_scores(const ract_file_dims& d, const Weights& w,
                                     const std::vector<int32_t>& history) {
  std::set<int32_t> S;
  for (int32_t i : history) {
    if (i >= 0 && i < d.n_items) S.insert(i);
  }
  int h1 = d.hidden[0], k = d.n_hidden;
  // t = s / sqrt(n) on S; h = tanh(t @ enc.0.w + enc.0.b), enc.0.w item-major (I x h1).
  std::vector<double> t(d.n_items, 0.0);
  for (int32_t i : S) t[i] = d.input_scale / sqrt((double)S.size());
  const std::vector<float>& W0 = w.at("enc.0.w");
  std::vector<double> h(h1);
  for (int c = 0; c < h1; c++) {
    double s = w.at("enc.0.b")[c];
    for (int i = 0; i < d.n_items; i++) s += t[i] * W0[(size_t)i * h1 + c];
    h[c] = tanh(s);
  }
  for (int j = 1; j < k; j++) {
    std::string p = "enc." + std::to_string(j);
    h = dense(w.at(p + ".w"), w.at(p + ".b"), h, true);
  }
  std::vector<double> z = dense(w.at("mu.w"), w.at("mu.b"), h, false);
  for (int j = 0; j < k; j++) {
    std::string p = "dec." + std::to_string(j);
    z = dense(w.at(p + ".w"), w.at(p + ".b"), z, true);
  }
  return dense(w.at("dec.out.w"), w.at("dec.out.b"), z, false);
}

std::vector<int32_t> reference_topk(const std::vector<double>& scores,
                                    const std::vector<int32_t>& history, int k) {
  std::set<int32_t> S(history.begin(), history.end());
  std::vector<int32_t> idx;
  for (int32_t i = 0; i < (int32_t)scores.size(); i++) {
    if (!S.count(i)) idx.push_back(i);
  }
  std::stable_sort(idx.begin(), idx.end(),
                   [&](int32_t a, int32_t b) { return scores[a] > scores[b]; });
  if ((int)idx.size() > k) idx.resize(k);
  return idx;
}

}  // namespace fixture
