// tools/score: top-K recommendations from a weight file, file inspection and conversion.
//
//   score --model F --history 1,50,172 [--k 10] [--no-mask]   top-K for one history
//   score --model F [--k 10] < histories.txt                   one history per stdin line
//   score --model F --info                                     header, metadata, tensors
//   score --model F --meta KEY                                 one metadata value (e.g.
//                                                              test.ndcg@10), or exit 1
//   score --model F --convert --dtype=int8 --out=G             re-encode (inference file or
//                                                              checkpoint -> inference file)
//   score --model F --bench N [--k 10]                         time load and N top-K calls
//   score --model F --eval [data flags] [--topk=10,100] [--report=R.json]
//                                         metrics on the dataset's valid and test sets
// --eval loads the data with the shared data flags (tools/data_flags.h, as tools/train
// and tools/data), maps the dataset's item ids to the file's tokens, and ranks all items
// with the scorer (RecBole's full-sort protocol: history items masked, valid items too in
// the test phase). Items the file does not know score -inf.
// History tokens are the app's item ids (the file's token table), separated by commas or
// spaces. Unknown ids are skipped and reported on stderr. Output: rank, item id, score.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <string>
#include <vector>

#include "ract/core/arena.h"
#include "ract/core/atomic_file.h"
#include "ract/data/dataset.h"
#include "ract/deploy/model_file.h"
#include "ract/deploy/model_file_write.h"
#include "ract/eval/evaluator.h"
#include "ract/eval/metrics.h"
#include "ract/ract.h"
#include "tools/data_flags.h"
#include "tools/flags.h"

namespace {

struct Args {
  std::string model, history, out, dtype = "fp32", meta;
  bool has_history = false, info = false, convert = false, mask = true, eval = false;
  int k = 10;
  int bench = 0;
  int batch = 256;
  std::string topk = "10,100", report;
  ract_data_flags data;
  bool data_given = false;
};

void usage() {
  fprintf(stderr,
          "usage: score --model F [--history 1,50,172 | < lines] [--k 10] [--no-mask]\n"
          "       score --model F --info\n"
          "       score --model F --meta KEY   (keys: ract/deploy/FORMAT.md, \"Metadata\")\n"
          "       score --model F --convert --dtype=fp32|fp16|int8 --out=G\n"
          "       score --model F --bench N [--k 10]\n"
          "       score --model F --eval [data flags] [--topk=10,100] [--batch=256] "
          "[--report=R.json]\n\n%s",
          ract_data_flags_usage());
}

// --name=value or --name value.
bool take(int argc, char** argv, int* i, const char* name, std::string* value) {
  size_t n = strlen(name);
  const char* a = argv[*i];
  if (strncmp(a, name, n) != 0) return false;
  if (a[n] == '=') {
    *value = a + n + 1;
    return true;
  }
  if (a[n] == '\0' && *i + 1 < argc) {
    *value = argv[++*i];
    return true;
  }
  return false;
}

bool parse(int argc, char** argv, Args* a) {
  ract_data_flags_init(&a->data);
  for (int i = 1; i < argc; i++) {
    std::string v;
    ract_error err{};
    int r = ract_data_flags_parse(&a->data, argv[i], &err);
    if (r < 0) {
      fprintf(stderr, "score: %s\n", err.msg);
      return false;
    }
    if (r > 0) {
      a->data_given = true;
      continue;
    }
    if (take(argc, argv, &i, "--model", &v)) {
      a->model = v;
    } else if (take(argc, argv, &i, "--history", &v)) {
      a->history = v;
      a->has_history = true;
    } else if (take(argc, argv, &i, "--k", &v)) {
      char* end = nullptr;
      long k = strtol(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || k < 1 || k > 1000000) {
        fprintf(stderr, "score: --k must be a positive integer, got '%s'\n", v.c_str());
        return false;
      }
      a->k = (int)k;
    } else if (take(argc, argv, &i, "--bench", &v)) {
      a->bench = atoi(v.c_str());
      if (a->bench < 1) {
        fprintf(stderr, "score: --bench must be a positive count\n");
        return false;
      }
    } else if (take(argc, argv, &i, "--meta", &v)) {
      a->meta = v;
    } else if (take(argc, argv, &i, "--out", &v)) {
      a->out = v;
    } else if (take(argc, argv, &i, "--dtype", &v)) {
      a->dtype = v;
    } else if (take(argc, argv, &i, "--topk", &v)) {
      a->topk = v;
    } else if (take(argc, argv, &i, "--report", &v)) {
      a->report = v;
    } else if (take(argc, argv, &i, "--batch", &v)) {
      a->batch = atoi(v.c_str());
      if (a->batch < 1) {
        fprintf(stderr, "score: --batch must be a positive count\n");
        return false;
      }
    } else if (strcmp(argv[i], "--eval") == 0) {
      a->eval = true;
    } else if (strcmp(argv[i], "--info") == 0) {
      a->info = true;
    } else if (strcmp(argv[i], "--convert") == 0) {
      a->convert = true;
    } else if (strcmp(argv[i], "--no-mask") == 0) {
      a->mask = false;
    } else {
      fprintf(stderr, "score: unknown or incomplete argument '%s'\n", argv[i]);
      return false;
    }
  }
  if (a->model.empty()) {
    fprintf(stderr, "score: --model is required\n");
    return false;
  }
  if (a->data_given && !a->eval) {
    fprintf(stderr, "score: data flags are for --eval\n");
    return false;
  }
  if (a->convert && a->out.empty()) {
    fprintf(stderr, "score: --convert needs --out\n");
    return false;
  }
  return true;
}

int fail(const ract_error& err) {
  fprintf(stderr, "score: %s (%s)\n", err.msg, ract_status_name(err.status));
  return 1;
}

std::string dims_str(const ract_file_tensor_view& t) {
  std::string s;
  for (int d = 0; d < t.n_dims; d++) {
    if (d) s += " x ";
    s += std::to_string((long long)t.dims[d]);
  }
  return s;
}

void print_info(const char* path, const ract_file& f) {
  const ract_file_dims& d = f.dims;
  printf("file:     %s\n", path);
  printf("format:   version %d, %zu bytes, crc32 %08x\n", f.version, f.size, f.crc);
  printf("kind:     %s\n", ract_file_kind_name(f.kind));
  printf("dtype:    %s\n", ract_file_dtype_name(f.dtype));
  printf("preset:   %s\n", ract_file_preset_name(d.preset));
  printf("dims:     n_items %d, hidden [", d.n_items);
  for (int j = 0; j < d.n_hidden; j++) printf("%s%d", j ? ", " : "", d.hidden[j]);
  printf("], latent %d, input scale %g\n", d.latent, (double)d.input_scale);
  printf("tokens:   %d (first: %s, last: %s)\n", d.n_items, ract_file_token(&f, 0),
         ract_file_token(&f, d.n_items - 1));
  printf("state:    %zu bytes\n", f.state_bytes);
  printf("metadata: %d\n", f.n_meta);
  for (int i = 0; i < f.n_meta; i++) {
    const char *k, *v;
    ract_file_meta_at(&f, i, &k, &v);
    printf("  %-24s %s\n", k, v);
  }
  printf("tensors:  %d\n", f.n_tensors);
  printf("  %-28s %-5s %-18s %12s %12s\n", "name", "dtype", "dims", "offset", "bytes");
  for (int i = 0; i < f.n_tensors; i++) {
    ract_file_tensor_view t;
    ract_file_tensor_at(&f, i, &t, nullptr);
    printf("  %-28s %-5s %-18s %12llu %12llu\n", t.name, ract_file_dtype_name(t.dtype),
           dims_str(t).c_str(), (unsigned long long)t.offset, (unsigned long long)t.bytes);
  }
}

std::vector<std::string> split_tokens(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

int score_line(ract_scorer* s, const ract_model* m, const std::string& line, const Args& a,
               int user) {
  std::vector<std::string> toks = split_tokens(line);
  std::vector<const char*> ptrs;
  for (auto& t : toks) ptrs.push_back(t.c_str());
  int unknown = 0;
  ract_error err{};
  if (ract_scorer_set_history_tokens(s, ptrs.data(), (int)ptrs.size(), &unknown, &err) != RACT_OK) {
    return fail(err);
  }
  if (unknown > 0) {
    std::string list;
    for (auto& t : toks) {
      if (ract_model_item_index(m, t.c_str()) < 0) list += (list.empty() ? "" : " ") + t;
    }
    fprintf(stderr, "score: %d unknown item id(s) skipped: %s\n", unknown, list.c_str());
  }
  std::vector<int32_t> items(a.k);
  std::vector<float> scores(a.k);
  int n = 0;
  if (ract_scorer_topk(s, a.k, a.mask, items.data(), scores.data(), &n, &err) != RACT_OK) {
    return fail(err);
  }
  for (int j = 0; j < n; j++) {
    if (user >= 0) printf("%d\t", user);
    printf("%d\t%s\t%.6f\n", j + 1, ract_model_item_token(m, items[j]), (double)scores[j]);
  }
  return 0;
}

double now_us() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

// Load (validation + CRC) and top-K latency on random 20-item histories, one thread.
int bench(const void* blob, size_t len, const Args& a) {
  ract_error err{};
  ract_model model;
  double t0 = now_us();
  if (ract_model_load(&model, blob, len, &err) != RACT_OK) return fail(err);
  double t_load = now_us() - t0;
  std::vector<uint8_t> arena(ract_scorer_arena_bytes(&model));
  ract_scorer s;
  if (ract_scorer_init(&s, &model, arena.data(), arena.size(), &err) != RACT_OK) return fail(err);
  std::vector<int32_t> items(a.k), hist(20);
  std::vector<float> scores(a.k);
  uint64_t x = 88172645463325252ull;
  double t_hist = 0, t_topk = 0;
  for (int rep = 0; rep < a.bench; rep++) {
    for (auto& h : hist) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      h = (int32_t)(x % (uint64_t)model.n_items);
    }
    int n = 0;
    double t1 = now_us();
    ract_scorer_set_history(&s, hist.data(), (int)hist.size(), nullptr, nullptr);
    double t2 = now_us();
    ract_scorer_topk(&s, a.k, 1, items.data(), scores.data(), &n, nullptr);
    t_hist += t2 - t1;
    t_topk += now_us() - t2;
  }
  printf("model: %s, %zu bytes, I=%d, hidden[0]=%d, L=%d, arena %zu bytes\n",
         ract_file_dtype_name(model.dtype), len, model.n_items, model.hidden[0], model.latent,
         arena.size());
  printf("load (validate + CRC): %.0f us\n", t_load);
  printf("per user (20 items, top-%d): set_history %.1f us + topk %.1f us = %.1f us\n", a.k,
         t_hist / a.bench, t_topk / a.bench, (t_hist + t_topk) / a.bench);
  return 0;
}

// --eval: the evaluator asks for all-item scores of a batch of users (dataset item ids);
// each row's history is mapped to the file's items, scored, and mapped back.
struct EvalCtx {
  ract_scorer* scorer;
  const int32_t* map;   // dataset item -> model item, or -1
  float* model_scores;  // n_items of the model
  std::vector<int32_t> hist;
};

ract_status eval_scores(void* ctx, ract_sparse in, ract_tensor scores, ract_error* err) {
  EvalCtx* c = (EvalCtx*)ctx;
  for (int r = 0; r < in.rows; r++) {
    c->hist.clear();
    for (int64_t p = in.ptr[r]; p < in.ptr[r + 1]; p++) c->hist.push_back(c->map[in.idx[p]]);
    RACT_CHECK(
        ract_scorer_set_history(c->scorer, c->hist.data(), (int)c->hist.size(), nullptr, err));
    RACT_CHECK(ract_scorer_full_sort_predict(c->scorer, c->model_scores, err));
    float* row = scores.data + (size_t)r * (size_t)scores.stride;
    for (int j = 0; j < scores.cols; j++) {
      row[j] = c->map[j] >= 0 ? c->model_scores[c->map[j]] : -INFINITY;
    }
  }
  return RACT_OK;
}

int eval(const char* argv0, const ract_model* model, const char* path, Args* a) {
  ract_error err{};
  ract_metrics metrics;
  if (ract_metrics_init_list(&metrics, a->topk.c_str(), &err) != RACT_OK) return fail(err);
  if (ract_data_flags_finish(&a->data, argv0, &err) != RACT_OK) return fail(err);
  ract_dataset ds;
  if (ract_dataset_load(&ds, &a->data.opt, &err) != RACT_OK) return fail(err);
  std::vector<int32_t> map(ds.n_items);
  int missing = 0;
  for (int j = 0; j < ds.n_items; j++) {
    map[j] = ract_model_item_index(model, ract_vocab_token(&ds.items, j));
    missing += map[j] < 0;
  }
  printf("model:   %s (%s, %d items)\n", path, ract_file_dtype_name(model->dtype), model->n_items);
  printf("dataset: %s (%d users, %d items; %d of them unknown to the model, scored -inf)\n",
         ds.name, ds.n_users, ds.n_items, missing);
  std::vector<uint8_t> sarena(ract_scorer_arena_bytes(model));
  std::vector<float> model_scores(model->n_items);
  ract_scorer scorer;
  ract_arena arena;
  int rc = 0;
  std::string json = "{\"model\": \"" + std::string(path) + "\", \"dtype\": \"" +
                     ract_file_dtype_name(model->dtype) + "\", \"dataset\": \"" + ds.name + "\"";
  if (ract_scorer_init(&scorer, model, sarena.data(), sarena.size(), &err) != RACT_OK ||
      ract_arena_create(&arena,
                        ract_eval_bytes(ds.n_items, a->batch, ract_metrics_max_k(&metrics), 1),
                        &err) != RACT_OK) {
    ract_dataset_free(&ds);
    return fail(err);
  }
  EvalCtx ctx{&scorer, map.data(), model_scores.data(), {}};
  const char* names[2] = {"valid", "test"};
  const ract_eval_set* sets[2] = {&ds.valid, &ds.test};
  for (int i = 0; i < 2 && rc == 0; i++) {
    const ract_eval_job job = ract_eval_job_make(sets[i], ds.n_items, eval_scores, &ctx, a->batch);
    if (ract_eval_run(&metrics, &job, &arena, &err) != RACT_OK) {
      rc = fail(err);
      break;
    }
    printf("\n%s result (%d users):\n", names[i], metrics.users);
    ract_metrics_print(stdout, &metrics);
    char buf[4096];
    ract_metrics_format_json(buf, sizeof(buf), &metrics);
    json += std::string(", \"") + names[i] + "\": " + buf;
  }
  json += "}\n";
  if (rc == 0 && !a->report.empty() &&
      ract_atomic_write(a->report.c_str(), json.data(), json.size(), &err) != RACT_OK) {
    rc = fail(err);
  }
  ract_arena_free(&arena);
  ract_dataset_free(&ds);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  ract_flag_chdir_to_invocation();
  Args a;
  if (!parse(argc, argv, &a)) {
    usage();
    return 2;
  }
  ract_error err{};
  void* blob = nullptr;
  size_t len = 0;
  if (ract_file_read(a.model.c_str(), &blob, &len, &err) != RACT_OK) return fail(err);
  int rc = 0;
  ract_file f;
  if (a.info || a.convert) {
    if (ract_file_open(&f, blob, len, &err) != RACT_OK) {
      rc = fail(err);
    } else if (a.info) {
      print_info(a.model.c_str(), f);
    } else {
      ract_file_dtype dt;
      if (ract_file_parse_dtype(a.dtype.c_str(), &dt, &err) != RACT_OK ||
          ract_file_convert(a.out.c_str(), &f, dt, &err) != RACT_OK) {
        rc = fail(err);
      } else {
        void* out = nullptr;
        size_t out_len = 0;
        if (ract_file_read(a.out.c_str(), &out, &out_len, &err) != RACT_OK) {
          rc = fail(err);
        } else {
          fprintf(stderr, "score: wrote %s: %s inference file, %zu bytes (%.1f%% of %zu)\n",
                  a.out.c_str(), a.dtype.c_str(), out_len, 100.0 * out_len / len, len);
        }
        free(out);
      }
    }
    free(blob);
    return rc;
  }

  if (a.bench > 0) {
    rc = bench(blob, len, a);
    free(blob);
    return rc;
  }
  ract_model model;
  if (ract_model_load(&model, blob, len, &err) != RACT_OK) {
    free(blob);
    return fail(err);
  }
  if (!a.meta.empty()) {  // the value an app reads through ract_model_meta
    const char* v = ract_model_meta(&model, a.meta.c_str());
    if (v != nullptr) {
      printf("%s\n", v);
    } else {
      fprintf(stderr, "score: %s has no metadata key '%s' (see --info)\n", a.model.c_str(),
              a.meta.c_str());
      rc = 1;
    }
    free(blob);
    return rc;
  }
  std::vector<uint8_t> arena(ract_scorer_arena_bytes(&model));
  ract_scorer scorer;
  if (ract_scorer_init(&scorer, &model, arena.data(), arena.size(), &err) != RACT_OK) {
    rc = fail(err);
  } else if (a.eval) {
    rc = eval(argv[0], &model, a.model.c_str(), &a);
  } else if (a.has_history) {
    rc = score_line(&scorer, &model, a.history, a, -1);
  } else {
    // One history per line; with several lines, each output line starts with the line number.
    std::vector<std::string> lines;
    char buf[1 << 16];
    std::string cur;
    while (fgets(buf, sizeof(buf), stdin) != nullptr) {
      cur += buf;
      if (!cur.empty() && cur.back() == '\n') {
        lines.push_back(cur);
        cur.clear();
      }
    }
    if (!cur.empty()) lines.push_back(cur);
    for (size_t i = 0; i < lines.size() && rc == 0; i++) {
      rc = score_line(&scorer, &model, lines[i], a, lines.size() > 1 ? (int)i + 1 : -1);
    }
  }
  free(blob);
  return rc;
}
