/* The public API from plain C99: write a tiny model with the C-compatible writer of
 * ract/deploy/model_file.h into a static buffer, load it with ract/ract.h, score, and check
 * against a reference forward written here. The exit code says pass/fail, and the last line
 * has doctest's counter format so CI counts these cases with the C++ tests. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ract/deploy/model_file.h"
#include "ract/deploy/model_file_write.h"
#include "ract/ract.h"

enum { I = 6, H = 4, L = 2 };

static float enc_w[I * H], enc_b[H], mu_w[L * H], mu_b[L], dec_w[H * L], dec_b[H];
static float out_w[I * H], out_b[I];

/* 64-byte aligned static buffers: the file and the scorer's arena. */
static union {
  double align;
  unsigned char bytes[16384];
} file_buf __attribute__((aligned(64)));
static unsigned char arena[4096];

static int cases, failed;

static void check(int ok, const char* what) {
  cases++;
  if (!ok) {
    failed++;
    printf("FAILED: %s\n", what);
  }
}

static void fill(float* v, int n, double a, double b) {
  int i;
  for (i = 0; i < n; i++) v[i] = (float)(0.6 * sin(a * i + b));
}

/* The evaluation forward (ract/model/README.md, "Scoring") for history items in S. */
static void reference(const int* S, int n, double scale, double* logits) {
  double h[H], z[L], d[H];
  int i, j, c;
  for (c = 0; c < H; c++) {
    double s = enc_b[c];
    for (j = 0; j < n; j++) s += scale / sqrt((double)n) * enc_w[S[j] * H + c];
    h[c] = tanh(s);
  }
  for (i = 0; i < L; i++) {
    double s = mu_b[i];
    for (c = 0; c < H; c++) s += mu_w[i * H + c] * h[c];
    z[i] = s;
  }
  for (c = 0; c < H; c++) {
    double s = dec_b[c];
    for (i = 0; i < L; i++) s += dec_w[c * L + i] * z[i];
    d[c] = tanh(s);
  }
  for (i = 0; i < I; i++) {
    double s = out_b[i];
    for (c = 0; c < H; c++) s += out_w[i * H + c] * d[c];
    logits[i] = s;
  }
}

static size_t write_model(ract_file_dtype dtype) {
  static const char* tokens[I] = {"m100", "m101", "m102", "m103", "m104", "m105"};
  ract_file_tensor t[8];
  ract_file_kv meta[1];
  ract_file_desc d;
  size_t written = 0;
  ract_error err;
  const char* names[8] = {"enc.0.w", "enc.0.b", "mu.w",      "mu.b",
                          "dec.0.w", "dec.0.b", "dec.out.w", "dec.out.b"};
  const float* data[8] = {enc_w, enc_b, mu_w, mu_b, dec_w, dec_b, out_w, out_b};
  const int64_t rows[8] = {I, H, L, L, H, H, I, I};
  const int64_t cols[8] = {H, 0, H, 0, L, 0, H, 0};
  int k;
  memset(t, 0, sizeof(t));
  for (k = 0; k < 8; k++) {
    t[k].name = names[k];
    t[k].n_dims = cols[k] ? 2 : 1;
    t[k].dims[0] = rows[k];
    t[k].dims[1] = cols[k];
    t[k].data = data[k];
  }
  meta[0].key = "dataset";
  meta[0].value = "c-test";
  memset(&d, 0, sizeof(d));
  d.kind = RACT_FILE_INFERENCE;
  d.dims.n_items = I;
  d.dims.latent = L;
  d.dims.n_hidden = 1;
  d.dims.hidden[0] = H;
  d.dims.preset = RACT_PRESET_RECBOLE;
  d.dims.input_scale = 0.5f;
  d.tensors = t;
  d.n_tensors = 8;
  d.tokens = tokens;
  d.meta = meta;
  d.n_meta = 1;
  if (ract_file_write_buffer(file_buf.bytes, sizeof(file_buf.bytes), &d, dtype, &written, &err) !=
      RACT_OK) {
    printf("write: %s\n", err.msg);
    return 0;
  }
  return written;
}

int main(void) {
  ract_model model;
  ract_scorer scorer;
  ract_error err;
  double ref[I];
  float scores[I];
  int32_t items[3];
  float top[3];
  int n = 0, unknown = 0, i, S[2] = {1, 4};
  const char* history[] = {"m101", "m104", "m999", "m101"};
  size_t len;
  double worst = 0;

  fill(enc_w, I * H, 0.7, 0.1);
  fill(enc_b, H, 1.1, 0.2);
  fill(mu_w, L * H, 0.9, 0.3);
  fill(mu_b, L, 1.7, 0.4);
  fill(dec_w, H * L, 0.5, 0.5);
  fill(dec_b, H, 1.3, 0.6);
  fill(out_w, I * H, 0.3, 0.7);
  fill(out_b, I, 2.1, 0.8);

  len = write_model(RACT_FILE_F32);
  check(len > 0, "write the fp32 file");
  check(ract_model_load(&model, file_buf.bytes, len, &err) == RACT_OK, "load");
  check(ract_model_n_items(&model) == I, "n_items");
  check(strcmp(ract_model_meta(&model, "dataset"), "c-test") == 0, "metadata");
  check(ract_scorer_arena_bytes(&model) <= sizeof(arena), "arena size");
  check(ract_scorer_init(&scorer, &model, arena, sizeof(arena), &err) == RACT_OK, "init");

  check(ract_scorer_set_history_tokens(&scorer, history, 4, &unknown, &err) == RACT_OK,
        "set history");
  check(unknown == 1, "one unknown token counted");
  check(ract_scorer_full_sort_predict(&scorer, scores, &err) == RACT_OK, "full sort");
  reference(S, 2, 0.5, ref);
  for (i = 0; i < I; i++) worst = fmax(worst, fabs(scores[i] - ref[i]));
  check(worst <= 1e-5, "fp32 scores equal the reference");

  /* Top-3 with the history (items 1 and 4) masked: the 3 best of items 0, 2, 3, 5. */
  check(ract_scorer_topk(&scorer, 3, 1, items, top, &n, &err) == RACT_OK, "top-k");
  check(n == 3, "three results");
  {
    int cand[4] = {0, 2, 3, 5}, a, b, ok = 1;
    for (a = 0; a < 4; a++) {
      for (b = a + 1; b < 4; b++) {
        if (ref[cand[b]] > ref[cand[a]]) {
          int t = cand[a];
          cand[a] = cand[b];
          cand[b] = t;
        }
      }
    }
    for (a = 0; a < 3; a++) ok &= items[a] == cand[a] && fabs(top[a] - ref[cand[a]]) <= 1e-5;
    check(ok, "top-3 equals the reference's, history masked");
  }
  check(strcmp(ract_model_item_token(&model, items[0]), history[0]) != 0, "history masked");
  check(ract_model_item_index(&model, "m103") == 3, "token to index");

  /* A flipped byte: the CRC catches it. */
  file_buf.bytes[len - 3] ^= 0x40;
  check(ract_model_load(&model, file_buf.bytes, len, &err) == RACT_ERR_FILE_CRC, "CRC");
  check(strstr(err.msg, "CRC") != NULL, "CRC message");

  /* int8: within the quantisation error. */
  len = write_model(RACT_FILE_I8);
  check(ract_model_load(&model, file_buf.bytes, len, &err) == RACT_OK, "load int8");
  check(ract_scorer_init(&scorer, &model, arena, sizeof(arena), &err) == RACT_OK, "init int8");
  check(ract_scorer_set_history_tokens(&scorer, history, 4, &unknown, &err) == RACT_OK, "set");
  check(ract_scorer_full_sort_predict(&scorer, scores, &err) == RACT_OK, "full sort int8");
  worst = 0;
  for (i = 0; i < I; i++) worst = fmax(worst, fabs(scores[i] - ref[i]));
  check(worst <= 0.02, "int8 scores near the reference");

  printf("[doctest] test cases: %d | %d passed | %d failed | 0 skipped\n", cases, cases - failed,
         failed);
  return failed == 0 ? 0 : 1;
}
