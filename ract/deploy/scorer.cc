// The on-device scorer behind ract/ract.h: binds the layers of a validated inference file
// (in place), and runs the evaluation forward with the portable kernels of kernels.h. All
// state after init is in the caller's arena; nothing here allocates or throws.
#include <math.h>
#include <string.h>

#include "ract/core/arena.h"
#include "ract/deploy/kernels.h"
#include "ract/deploy/model_file.h"
#include "ract/math/topk.h"
#include "ract/ract.h"

static_assert(RACT_MAX_HIDDEN == RACT_FILE_MAX_HIDDEN, "one limit for both headers");
// ract_topk works on int indices; the API speaks int32_t. Same size on every target we
// build for (int32_t is int on Linux/glibc, musl, Android, Darwin).
static_assert(sizeof(int) == sizeof(int32_t), "int must be 32 bits");

namespace {

void bind(ract_layer* l, const ract_file_tensor_view* w, const ract_file_tensor_view* b) {
  l->w.data = w->data;
  l->w.scale = w->scale;
  l->w.rows = (int32_t)w->rows;
  l->w.cols = (int32_t)w->cols;
  l->w.dtype = w->dtype;
  l->b = (const float*)b->data;
}

// y is (rows): y[r] = W[row0 + r, :] . x
void gemv(float* y, const ract_matrix* W, const float* x, int32_t row0, int32_t rows) {
  size_t at = (size_t)row0 * (size_t)W->cols;
  switch (W->dtype) {
    case RACT_FILE_F32:
      ract_kernel_gemv_f32(y, (const float*)W->data + at, x, rows, W->cols);
      break;
    case RACT_FILE_F16:
      ract_kernel_gemv_f16(y, (const uint16_t*)W->data + at, x, rows, W->cols);
      break;
    default:
      ract_kernel_gemv_i8(y, (const int8_t*)W->data + at, W->scale + row0, x, rows, W->cols);
      break;
  }
}

// y is (W.cols): y += W[r, :]
void add_row(float* y, const ract_matrix* W, int32_t r) {
  size_t at = (size_t)r * (size_t)W->cols;
  switch (W->dtype) {
    case RACT_FILE_F32:
      ract_kernel_axpy_f32(y, 1.0f, (const float*)W->data + at, W->cols);
      break;
    case RACT_FILE_F16:
      ract_kernel_axpy_f16(y, 1.0f, (const uint16_t*)W->data + at, W->cols);
      break;
    default:
      ract_kernel_axpy_i8(y, W->scale[r], (const int8_t*)W->data + at, W->cols);
      break;
  }
}

// The output layer's input, ready for its GEMV: int8 weights take the int8 activation path
// (ract_kernel_gemv_i8q: the VNNI kernel on CPUs with it), quantised once per call.
constexpr int kMaxQuantCols = 4096;
struct out_input {
  const float* x;
  int8_t q[kMaxQuantCols];
  float sx;
  bool quant;
};

void out_prepare(out_input* in, const ract_model* m, const float* x) {
  in->x = x;
  in->quant = m->out.w.dtype == RACT_FILE_I8 && m->out.w.cols <= kMaxQuantCols;
  if (in->quant) in->sx = ract_kernel_quantise_i8(in->q, x, m->out.w.cols);
}

// y is (rows): logits without the bias of items row0 .. row0+rows.
void out_rows(float* y, const ract_model* m, const out_input* in, int32_t row0, int32_t rows) {
  const ract_matrix* W = &m->out.w;
  if (!in->quant) return gemv(y, W, in->x, row0, rows);
  ract_kernel_gemv_i8q(y, (const int8_t*)W->data + (size_t)row0 * (size_t)W->cols, W->scale + row0,
                       in->q, in->sx, rows, W->cols);
}

// y = act(W x + b), act = tanh or identity.
void dense(float* y, const ract_layer* l, const float* x, bool tanh_act) {
  gemv(y, &l->w, x, 0, l->w.rows);
  for (int32_t r = 0; r < l->w.rows; r++) {
    float v = y[r] + l->b[r];
    y[r] = tanh_act ? tanhf(v) : v;
  }
}

// The part of a model_file view the token look-up reads.
void token_view(const ract_model* m, ract_file* f) {
  memset(f, 0, sizeof(*f));
  f->dims.n_items = m->n_items;
  f->tok_off = m->tok_off;
  f->tok_sorted = m->tok_sorted;
  f->tok_chars = m->tok_chars;
}

inline bool bit_test(const uint32_t* bits, int32_t i) { return (bits[i >> 5] >> (i & 31)) & 1u; }

// Starts a history: clears the set and the first layer's accumulator.
void history_begin(ract_scorer* s) {
  const ract_model* m = s->model;
  memset(s->history_bits, 0, sizeof(uint32_t) * (((size_t)m->n_items + 31) / 32));
  memset(s->enc_act[0], 0, sizeof(float) * (size_t)m->hidden[0]);
  s->n_history = 0;
  s->has_history = 0;
}

// Adds item i (if known and new): the sparse first layer gathers its row.
void history_add(ract_scorer* s, int32_t i, int* n_unknown) {
  const ract_model* m = s->model;
  if (i < 0 || i >= m->n_items) {
    (*n_unknown)++;
    return;
  }
  if (bit_test(s->history_bits, i)) return;
  s->history_bits[i >> 5] |= 1u << (i & 31);
  add_row(s->enc_act[0], &m->enc[0].w, i);
  s->n_history++;
}

// t_i = s / sqrt(n): h1 = tanh(b + s / sqrt(n) * sum of rows), then the rest of the
// encoder, mu, and the decoder's hidden layers.
void history_finish(ract_scorer* s) {
  const ract_model* m = s->model;
  int k = m->n_hidden;
  float alpha = s->n_history > 0 ? m->input_scale / sqrtf((float)s->n_history) : 0.0f;
  float* h = s->enc_act[0];
  for (int32_t c = 0; c < m->hidden[0]; c++) h[c] = tanhf(m->enc[0].b[c] + alpha * h[c]);
  for (int j = 1; j < k; j++) dense(s->enc_act[j], &m->enc[j], s->enc_act[j - 1], true);
  dense(s->mu, &m->mu, s->enc_act[k - 1], false);
  dense(s->dec_act[0], &m->dec[0], s->mu, true);
  for (int j = 1; j < k; j++) dense(s->dec_act[j], &m->dec[j], s->dec_act[j - 1], true);
  s->has_history = 1;
}

ract_status check_ready(const ract_scorer* s, ract_error* err) {
  if (s == nullptr || s->model == nullptr) {
    return ract_fail(err, RACT_ERR_ARG, "scorer: not initialised");
  }
  if (!s->has_history) {
    return ract_fail(err, RACT_ERR_ARG, "scorer: set a history first (ract_scorer_set_history)");
  }
  return RACT_OK;
}

}  // namespace

extern "C" {

ract_status ract_model_load(ract_model* model, const void* blob, size_t len, ract_error* err) {
  if (model == nullptr) return ract_fail(err, RACT_ERR_ARG, "ract_model_load: null model");
  memset(model, 0, sizeof(*model));
  ract_file f;
  RACT_CHECK(ract_file_open(&f, blob, len, err));
  if (f.kind != RACT_FILE_INFERENCE) {
    return ract_fail(err, RACT_ERR_FILE_KIND,
                     "weight file: a %s, the scorer needs an inference file (tools/score "
                     "--convert makes one)",
                     ract_file_kind_name(f.kind));
  }
  const ract_file_dims* d = &f.dims;
  ract_file_required req[RACT_FILE_MAX_REQUIRED];
  int32_t n = ract_file_required_of(d, RACT_FILE_INFERENCE, req);
  ract_file_tensor_view t[RACT_FILE_MAX_REQUIRED];
  for (int32_t i = 0; i < n; i++) {
    RACT_CHECK(ract_file_find(&f, req[i].name, req[i].n_dims, req[i].dims, &t[i], err));
  }
  // Order of ract_file_required_of: enc.* (k layers), mu, dec.* (k), dec.out.
  int k = d->n_hidden;
  for (int j = 0; j < k; j++) bind(&model->enc[j], &t[2 * j], &t[2 * j + 1]);
  bind(&model->mu, &t[2 * k], &t[2 * k + 1]);
  for (int j = 0; j < k; j++) bind(&model->dec[j], &t[2 * k + 2 + 2 * j], &t[2 * k + 3 + 2 * j]);
  bind(&model->out, &t[4 * k + 2], &t[4 * k + 3]);

  model->blob = (const uint8_t*)blob;
  model->blob_bytes = f.size;
  model->n_items = d->n_items;
  model->latent = d->latent;
  model->n_hidden = k;
  for (int j = 0; j < RACT_MAX_HIDDEN; j++) model->hidden[j] = d->hidden[j];
  model->preset = d->preset;
  model->dtype = f.dtype;
  model->input_scale = d->input_scale;
  model->tok_off = f.tok_off;
  model->tok_sorted = f.tok_sorted;
  model->tok_chars = f.tok_chars;
  model->meta = f.meta;
  model->n_meta = f.n_meta;
  return RACT_OK;
}

int32_t ract_model_n_items(const ract_model* model) {
  return model != nullptr ? model->n_items : 0;
}

const char* ract_model_item_token(const ract_model* model, int32_t index) {
  if (model == nullptr || model->tok_off == nullptr) return nullptr;
  ract_file f;
  token_view(model, &f);
  return ract_file_token(&f, index);
}

int32_t ract_model_item_index_n(const ract_model* model, const char* token, size_t len) {
  if (model == nullptr || model->tok_off == nullptr) return -1;
  ract_file f;
  token_view(model, &f);
  return ract_file_token_index(&f, token, len);
}

int32_t ract_model_item_index(const ract_model* model, const char* token) {
  if (token == nullptr) return -1;
  return ract_model_item_index_n(model, token, strlen(token));
}

const char* ract_model_meta(const ract_model* model, const char* key) {
  if (model == nullptr || key == nullptr || model->meta == nullptr) return nullptr;
  const char* s = model->meta;
  for (int32_t i = 0; i < model->n_meta; i++) {
    const char* v = s + strlen(s) + 1;
    if (strcmp(s, key) == 0) return v;
    s = v + strlen(v) + 1;
  }
  return nullptr;
}

size_t ract_scorer_arena_bytes(const ract_model* m) {
  if (m == nullptr || m->n_items < 1) return 0;
  size_t n = RACT_ARENA_ALIGN;  // the head of an unaligned arena is skipped
  n += ract_arena_round(sizeof(uint32_t) * (((size_t)m->n_items + 31) / 32));
  for (int j = 0; j < m->n_hidden; j++) n += 2 * ract_arena_round(sizeof(float) * m->hidden[j]);
  n += ract_arena_round(sizeof(float) * (size_t)m->latent);
  n += ract_arena_round(sizeof(float) * RACT_SCORER_BLOCK);
  return n;
}

ract_status ract_scorer_init(ract_scorer* s, const ract_model* m, void* arena, size_t arena_bytes,
                             ract_error* err) {
  if (s == nullptr || m == nullptr || m->n_items < 1) {
    return ract_fail(err, RACT_ERR_ARG, "ract_scorer_init: null scorer or model not loaded");
  }
  memset(s, 0, sizeof(*s));
  size_t need = ract_scorer_arena_bytes(m);
  ract_arena a;
  if (ract_arena_init(&a, arena, arena_bytes) != RACT_OK) {
    return ract_fail(err, RACT_ERR_ARG, "ract_scorer_init: null arena of %zu bytes", arena_bytes);
  }
  int k = m->n_hidden;
  s->history_bits =
      (uint32_t*)ract_arena_alloc(&a, sizeof(uint32_t) * (((size_t)m->n_items + 31) / 32));
  for (int j = 0; j < k; j++) {
    s->enc_act[j] = (float*)ract_arena_alloc(&a, sizeof(float) * m->hidden[j]);
  }
  s->mu = (float*)ract_arena_alloc(&a, sizeof(float) * (size_t)m->latent);
  for (int j = 0; j < k; j++) {
    s->dec_act[j] = (float*)ract_arena_alloc(&a, sizeof(float) * m->hidden[k - 1 - j]);
  }
  s->block = (float*)ract_arena_alloc(&a, sizeof(float) * RACT_SCORER_BLOCK);
  if (a.status != RACT_OK) {
    memset(s, 0, sizeof(*s));
    return ract_fail(err, RACT_ERR_NOMEM,
                     "ract_scorer_init: arena of %zu bytes, the scorer needs %zu "
                     "(ract_scorer_arena_bytes)",
                     arena_bytes, need);
  }
  s->model = m;
  return RACT_OK;
}

ract_status ract_scorer_set_history(ract_scorer* s, const int32_t* items, int n, int* n_unknown,
                                    ract_error* err) {
  if (s == nullptr || s->model == nullptr) {
    return ract_fail(err, RACT_ERR_ARG, "scorer: not initialised");
  }
  if (n < 0 || (n > 0 && items == nullptr)) {
    return ract_fail(err, RACT_ERR_ARG, "scorer: history of %d items at %p", n, (const void*)items);
  }
  int unknown = 0;
  history_begin(s);
  for (int i = 0; i < n; i++) history_add(s, items[i], &unknown);
  history_finish(s);
  if (n_unknown != nullptr) *n_unknown = unknown;
  return RACT_OK;
}

ract_status ract_scorer_set_history_tokens(ract_scorer* s, const char* const* tokens, int n,
                                           int* n_unknown, ract_error* err) {
  if (s == nullptr || s->model == nullptr) {
    return ract_fail(err, RACT_ERR_ARG, "scorer: not initialised");
  }
  if (n < 0 || (n > 0 && tokens == nullptr)) {
    return ract_fail(err, RACT_ERR_ARG, "scorer: history of %d tokens at %p", n,
                     (const void*)tokens);
  }
  int unknown = 0;
  history_begin(s);
  for (int i = 0; i < n; i++) history_add(s, ract_model_item_index(s->model, tokens[i]), &unknown);
  history_finish(s);
  if (n_unknown != nullptr) *n_unknown = unknown;
  return RACT_OK;
}

ract_status ract_scorer_full_sort_predict(ract_scorer* s, float* scores, ract_error* err) {
  RACT_CHECK(check_ready(s, err));
  if (scores == nullptr) return ract_fail(err, RACT_ERR_ARG, "scorer: null scores");
  const ract_model* m = s->model;
  out_input in;
  out_prepare(&in, m, s->dec_act[m->n_hidden - 1]);
  out_rows(scores, m, &in, 0, m->n_items);
  for (int32_t i = 0; i < m->n_items; i++) scores[i] += m->out.b[i];
  return RACT_OK;
}

ract_status ract_scorer_predict(ract_scorer* s, const int32_t* items, int n, float* scores,
                                ract_error* err) {
  RACT_CHECK(check_ready(s, err));
  if (n < 0 || (n > 0 && (items == nullptr || scores == nullptr))) {
    return ract_fail(err, RACT_ERR_ARG, "scorer: predict of %d items", n);
  }
  const ract_model* m = s->model;
  for (int j = 0; j < n; j++) {
    if (items[j] < 0 || items[j] >= m->n_items) {
      return ract_fail(err, RACT_ERR_ARG, "scorer: predict item %d is %d, outside [0, %d)", j,
                       (int)items[j], (int)m->n_items);
    }
  }
  out_input in;
  out_prepare(&in, m, s->dec_act[m->n_hidden - 1]);
  for (int j = 0; j < n; j++) {
    out_rows(&scores[j], m, &in, items[j], 1);
    scores[j] += m->out.b[items[j]];
  }
  return RACT_OK;
}

ract_status ract_scorer_topk(ract_scorer* s, int k, int mask_history, int32_t* out_items,
                             float* out_scores, int* n_out, ract_error* err) {
  RACT_CHECK(check_ready(s, err));
  if (k < 0 || (k > 0 && (out_items == nullptr || out_scores == nullptr))) {
    return ract_fail(err, RACT_ERR_ARG, "scorer: top-%d into %p, %p", k, (void*)out_items,
                     (void*)out_scores);
  }
  if (n_out != nullptr) *n_out = 0;
  if (k == 0) return RACT_OK;  // ract_topk_push reads slot 0 when full, and k = 0 is full
  const ract_model* m = s->model;
  out_input in;
  out_prepare(&in, m, s->dec_act[m->n_hidden - 1]);
  ract_topk t;
  ract_topk_init(&t, k, (int*)out_items, out_scores);
  for (int32_t r0 = 0; r0 < m->n_items; r0 += RACT_SCORER_BLOCK) {
    int32_t rows = m->n_items - r0 < RACT_SCORER_BLOCK ? m->n_items - r0 : RACT_SCORER_BLOCK;
    out_rows(s->block, m, &in, r0, rows);
    for (int32_t j = 0; j < rows; j++) {
      int32_t i = r0 + j;
      if (mask_history && bit_test(s->history_bits, i)) continue;
      ract_topk_push(&t, i, s->block[j] + m->out.b[i]);
    }
  }
  int got = ract_topk_finish(&t);
  if (n_out != nullptr) *n_out = got;
  return RACT_OK;
}

}  // extern "C"
