// `bench`: training, evaluation and scoring speed against the hardware floor, in one run.
//
//   bazel run -c opt //tools:bench -- --threads=2 --report=bench.json
//       (continued) --train=.../train.tsv --valid=.../valid.tsv --test=.../test.tsv
//   bazel run -c opt //tools:bench -- --synthetic=136677,20108,73 --report=ml20m.json
//
// For each training stage it runs --epochs epochs (the first is a warm-up when there are
// two or more) and reports the seconds per epoch of training (validation off) and the
// floor: the GEMMs that stage made in one epoch (their shapes and counts are recorded by
// ract_gemm_trace_set during the run) replayed on BLIS alone in this process, at the same
// thread count, each shape's fastest call times its count (a floor is the best case; the
// minimum also filters preemption on a shared machine). "ratio" divides the mean epoch,
// "min_ratio" the fastest one. The same for one full-ranking evaluation of all validation
// users (the best of three passes). Then the
// trained model is written as fp32, fp16 and int8 weight files (ract/train/export.h),
// loaded through ract.h, and each of --score_users histories is scored (history set +
// top-10): per-user latency p50/p99, against the floor of one sgemv of the last decoder
// layer (ract_gemv on BLIS). Also the seconds the dataset took to load (reading, filtering,
// splitting, CSR and eval sets; --load_only stops there), peak RSS, the weight-file sizes
// and the BLIS kernel family. Nothing here asserts a speed.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ract/core/atomic_file.h"
#include "ract/core/clock.h"
#include "ract/core/rng.h"
#include "ract/data/dataset.h"
#include "ract/data/vocab.h"
#include "ract/deploy/model_file.h"
#include "ract/deploy/model_file_write.h"
#include "ract/math/gemm.h"
#include "ract/ract.h"
#include "ract/train/export.h"
#include "ract/train/trainer.h"
#include "tools/data_flags.h"
#include "tools/flags.h"
#include "tools/rss.h"
#include "tools/synthetic.h"

namespace {

const char* kUsage =
    "usage: bench [flags]\n"
    "Seconds per epoch of each training stage, one full-ranking evaluation and per-user\n"
    "scoring latency, each against its BLIS floor timed in this process; peak RSS.\n\n"
    "  --threads=N                 BLIS and library threads (default 1)\n"
    "  --report=FILE.json          the report (also printed)\n"
    "  --preset=recbole|paper      model and batch defaults (default recbole)\n"
    "  --epochs=N                  epochs per stage (default 3; the first is a warm-up)\n"
    "  --stages=LIST               stages to time (default actor_pretrain,critic_pretrain,"
    "finetune)\n"
    "  --score_users=N             users scored per dtype (default 1000)\n"
    "  --load_only                 time the dataset load only (report: threads, dataset)\n"
    "  --synthetic=U,I,P           synthetic data: U users, I items, P items per user\n"
    "                              (Zipf-like popularity; 80/10/10 per user)\n"
    "  --mlp_hidden_size=[600] --latent_dimension=N --train_batch_size=N --eval_batch=N\n\n";

int fail(const ract_error* e) {
  fprintf(stderr, "bench: %s\n", e->msg);
  return e->status == RACT_ERR_ARG ? 2 : 1;
}

// ---- the GEMM floor: replay recorded shapes on BLIS alone.
struct Floor {
  std::vector<ract_gemm_shape> shapes;
  ract_gemm_trace trace;
  void start() {
    shapes.assign(64, ract_gemm_shape{});
    trace = {shapes.data(), (int)shapes.size(), 0, 0};
    ract_gemm_trace_set(&trace);
  }
  void stop() { ract_gemm_trace_set(nullptr); }
};

// Seconds BLIS takes for the recorded products, each `count / per` times (per: how many
// epochs or passes the trace covered).
double replay(const ract_gemm_trace* t, int per) {
  size_t need_a = 1, need_b = 1, need_c = 1;
  for (int i = 0; i < t->n; i++) {
    const ract_gemm_shape& s = t->shapes[i];
    need_a = std::max(need_a, (size_t)s.m * s.k);
    need_b = std::max(need_b, (size_t)s.k * s.n);
    need_c = std::max(need_c, (size_t)s.m * s.n);
  }
  std::vector<float> a(need_a), b(need_b), c(need_c);
  ract_rng r;
  ract_rng_seed(&r, 5, 0);
  for (float& v : a) v = ract_rng_uniform(&r) - 0.5f;
  for (float& v : b) v = ract_rng_uniform(&r) - 0.5f;
  for (float& v : c) v = 0.0f;
  double total = 0;
  for (int i = 0; i < t->n; i++) {
    const ract_gemm_shape& s = t->shapes[i];
    ract_tensor tc = ract_tensor_make(c.data(), s.m, s.n);
    ract_tensor ta =
        s.ta ? ract_tensor_make(a.data(), s.k, s.m) : ract_tensor_make(a.data(), s.m, s.k);
    ract_tensor tb =
        s.tb ? ract_tensor_make(b.data(), s.n, s.k) : ract_tensor_make(b.data(), s.k, s.n);
    const ract_trans ea = s.ta ? RACT_TRANS : RACT_NOTRANS, eb = s.tb ? RACT_TRANS : RACT_NOTRANS;
    const float beta = s.beta_zero ? 0.0f : 1.0f;  // as the recorded call
    ract_gemm(tc, ea, ta, eb, tb, 1.0f, beta);     // warm-up
    // At most 5 timed calls per shape (enough for products of a millisecond and more; the
    // big shapes of large datasets would otherwise replay for minutes), scaled to the count.
    // The fastest of the timed calls: a floor is the best the hardware does (the minimum
    // also filters out preemption on a shared machine).
    const long reps = std::min(5L, std::max(2L, (s.count + per - 1) / per));
    double best = 1e30;
    for (long k = 0; k < reps; k++) {
      const double t0 = ract_clock_seconds();
      ract_gemm(tc, ea, ta, eb, tb, 1.0f, beta);
      best = std::min(best, ract_clock_seconds() - t0);
    }
    // A partial share (count not a multiple of per) is scaled, not rounded up.
    total += best * ((double)s.count / per);
  }
  return total;
}

struct StageResult {
  std::vector<ract_gemm_shape> shapes;  // the trace of the stage's epochs
  int ran = 0;
  int epochs = 0;
  double seconds_per_epoch = 0;
  double min_epoch = 0;
  double floor = 0;
  double gflop = 0;
};

struct EpochTimes {
  std::vector<double> train;
  Floor* floor;
  int stop_after;  // epochs traced
};

void on_epoch(void* ctx, const ract_epoch_log* lg, const ract_metrics*) {
  EpochTimes* e = (EpochTimes*)ctx;
  e->train.push_back(lg->seconds_train);
  if ((int)e->train.size() == e->stop_after) e->floor->stop();
}

double flops(const ract_gemm_trace* t, int per) {
  double f = 0;
  for (int i = 0; i < t->n; i++) {
    const ract_gemm_shape& s = t->shapes[i];
    f += 2.0 * s.m * s.n * s.k * (double)s.count / per;
  }
  return f;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = (size_t)std::min((double)v.size() - 1, floor(p * (double)(v.size() - 1) + 0.5));
  return v[i];
}

struct ScoreResult {
  double p50 = 0, p99 = 0, mean = 0;
  size_t bytes = 0;
};

ract_status bench_scorer(const char* path, const ract_eval_set* set, int users, ScoreResult* out,
                         ract_error* err) {
  void* blob = nullptr;
  size_t len = 0;
  RACT_CHECK(ract_file_read(path, &blob, &len, err));  // as tools/score loads it
  out->bytes = len;
  ract_model model;
  ract_status s = ract_model_load(&model, blob, len, err);
  void* arena = nullptr;
  ract_scorer sc;
  if (s == RACT_OK) {
    size_t ab = ract_scorer_arena_bytes(&model);
    arena = malloc(ab);
    s = arena ? ract_scorer_init(&sc, &model, arena, ab, err)
              : ract_fail(err, RACT_ERR_NOMEM, "scorer arena");
  }
  std::vector<double> lat;
  int32_t items[10];
  float scores[10];
  const int n = std::min(users, set->rows);
  for (int pass = 0; pass < 2 && s == RACT_OK; pass++) {  // pass 0 warms the caches
    for (int u = 0; u < n && s == RACT_OK; u++) {
      const int64_t a = set->input.ptr[u], b = set->input.ptr[u + 1];
      const double t0 = ract_clock_seconds();
      s = ract_scorer_set_history(&sc, set->input.idx + a, (int)(b - a), nullptr, err);
      int got = 0;
      if (s == RACT_OK) s = ract_scorer_topk(&sc, 10, 1, items, scores, &got, err);
      const double dt = ract_clock_seconds() - t0;
      if (pass == 1) lat.push_back(dt * 1e6);
    }
  }
  if (s == RACT_OK) {
    out->p50 = percentile(lat, 0.5);
    out->p99 = percentile(lat, 0.99);
    double m = 0;
    for (double v : lat) m += v;
    out->mean = lat.empty() ? 0 : m / lat.size();
  }
  free(arena);
  free(blob);
  return s;
}

// Median microseconds of y = W x for the decoder's last layer (I x h1) on BLIS.
double gemv_floor_us(const ract_trainer* t, int reps) {
  const int I = t->actor.n_items, H = t->actor.cfg.mlp_hidden_size[0];
  ract_tensor w = ract_tensor_make(t->actor.p.out_w, I, H);
  std::vector<float> x(H), y(I);
  for (int j = 0; j < H; j++) x[j] = 0.01f * (float)(j % 17);
  std::vector<double> lat;
  for (int r = 0; r < reps + 10; r++) {
    const double t0 = ract_clock_seconds();
    ract_gemv(y.data(), RACT_NOTRANS, w, x.data(), 1.0f, 0.0f);
    if (r >= 10) lat.push_back((ract_clock_seconds() - t0) * 1e6);
  }
  return percentile(lat, 0.5);
}

// The report's "dataset" object (no newline).
void dataset_json(char* out, size_t size, const ract_dataset& ds, double load_s) {
  snprintf(out, size,
           "{\"name\": \"%s\", \"users\": %d, \"items\": %d, \"train_pairs\": %lld, "
           "\"load_seconds\": %.6f}",
           ds.name, ds.n_users, ds.n_items, (long long)ds.train.nnz, load_s);
}

}  // namespace

int main(int argc, char** argv) {
  ract_flag_chdir_to_invocation();
  ract_error err = {};
  const char* preset = "recbole";
  for (int i = 1; i < argc; i++) {
    if (const char* v = ract_flag_value(argv[i], "preset")) preset = v;
  }
  ract_train_config cfg;
  if (ract_train_config_preset(&cfg, preset, &err) != RACT_OK) {
    fprintf(stderr, "bench: --preset=%s: expected ract, paper or recbole\n", preset);
    return 2;
  }
  ract_data_flags flags;
  ract_data_flags_init(&flags);
  const char* report = nullptr;
  int epochs = 3, score_users = 1000, threads = 1, load_only = 0;
  int syn[3] = {0, 0, 0}, n_syn = 0;
  int run[RACT_STAGES] = {1, 1, 1};
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v;
    int r = ract_data_flags_parse(&flags, a, &err);
    if (r < 0) return fail(&err);
    if (r > 0) continue;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      printf("%s%s", kUsage, ract_data_flags_usage());
      return 0;
    } else if (ract_flag_value(a, "preset")) {
    } else if (!strcmp(a, "--load_only")) {
      load_only = 1;
    } else if ((v = ract_flag_value(a, "threads"))) {
      if (!ract_flag_int(v, 1, 256, &threads)) return fprintf(stderr, "bench: %s: 1..256\n", a), 2;
    } else if ((v = ract_flag_value(a, "report"))) {
      report = v;
    } else if ((v = ract_flag_value(a, "epochs"))) {
      if (!ract_flag_int(v, 1, 10000, &epochs)) return fprintf(stderr, "bench: %s: >= 1\n", a), 2;
    } else if ((v = ract_flag_value(a, "score_users"))) {
      if (!ract_flag_int(v, 1, 1 << 24, &score_users)) {
        return fprintf(stderr, "bench: %s: >= 1\n", a), 2;
      }
    } else if ((v = ract_flag_value(a, "synthetic"))) {
      if (!ract_flag_list(v, syn, 3, &n_syn) || n_syn != 3) {
        return fprintf(stderr, "bench: %s: expected USERS,ITEMS,PER_USER\n", a), 2;
      }
    } else if ((v = ract_flag_value(a, "stages"))) {
      for (int s = 0; s < RACT_STAGES; s++) run[s] = strstr(v, ract_stage_name((ract_stage)s)) != 0;
    } else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') != nullptr) {
      // Every key of the training config (ract/train/config.h), as tools/train takes them.
      std::string key(a + 2, strchr(a, '=') - (a + 2));
      if (ract_train_config_set(&cfg, key.c_str(), strchr(a, '=') + 1, &err) != RACT_OK) {
        fprintf(stderr, "bench: %s: %s (see --help)\n", a, err.msg);
        return 2;
      }
    } else {
      fprintf(stderr, "bench: unknown flag %s (see --help)\n", a);
      return 2;
    }
  }
  cfg.threads = threads;
  ract_gemm_set_threads(threads);

  ract_dataset ds;
  memset(&ds, 0, sizeof(ds));
  ract_status s;
  double t_load;
  if (n_syn == 3) {
    if (syn[0] < 2 || syn[1] < 2 || syn[2] < 1) {
      fprintf(stderr, "bench: --synthetic: at least 2 users, 2 items, 1 item per user\n");
      return 2;
    }
    t_load = ract_clock_seconds();
    s = ract_synthetic_dataset(&ds, syn[0], syn[1], syn[2], flags.opt.seed, nullptr, &err);
  } else {
    if (ract_data_flags_finish(&flags, argv[0], &err) != RACT_OK) return fail(&err);
    t_load = ract_clock_seconds();
    s = ract_dataset_load(&ds, &flags.opt, &err);
  }
  const double load_s = ract_clock_seconds() - t_load;
  if (s != RACT_OK) {
    ract_dataset_free(&ds);
    return fail(&err);
  }
  const double rss_data_mb = ract_rss_peak_mb();
  printf("dataset %s: %d users, %d items, %lld train pairs (%.2f s); BLIS %s, %d thread(s)\n",
         ds.name, ds.n_users, ds.n_items, (long long)ds.train.nnz, load_s, ract_gemm_kernel(),
         threads);
  fflush(stdout);
  char ds_json[1024];
  dataset_json(ds_json, sizeof(ds_json), ds, load_s);
  if (load_only) {
    char buf[2048];
    int n = snprintf(
        buf, sizeof(buf),
        "{\n  \"threads\": %d,\n  \"dataset\": %s,\n  \"peak_rss_mb_after_load\": %.1f\n}\n",
        threads, ds_json, rss_data_mb);
    fputs(buf, stdout);
    int rc = 0;
    if (report != nullptr &&
        ract_atomic_write(report, buf, std::min((size_t)n, sizeof(buf) - 1), &err) != RACT_OK) {
      rc = fail(&err);
    }
    ract_dataset_free(&ds);
    return rc;
  }

  // Training: no validation inside the timed epochs.
  ract_train_config_timed(&cfg, epochs, run);
  cfg.seed = flags.opt.seed;
  ract_trainer t;
  size_t need = 0;
  if (ract_trainer_bytes(&cfg, &ds, &need, &err) != RACT_OK ||
      ract_flag_check_memory(need, "the model", &err) != RACT_OK ||
      ract_trainer_create(&t, &cfg, &ds, nullptr, 0, &err) != RACT_OK) {
    int rc = fail(&err);
    ract_dataset_free(&ds);
    return rc;
  }
  printf("trainer created: rss %.1f MB (arena %.1f MB reserved)\n", ract_rss_now_mb(),
         t.arena.size / 1048576.0);
  StageResult res[RACT_STAGES];
  Floor fl;
  int rc = 0;
  for (int st = 0; st < RACT_STAGES && rc == 0; st++) {
    if (!run[st]) continue;
    EpochTimes et;
    et.floor = &fl;
    et.stop_after = epochs;
    ract_train_callbacks cb = {&et, nullptr, on_epoch, nullptr};
    fl.start();
    s = ract_trainer_run_stage(&t, (ract_stage)st, &cb, &err);
    fl.stop();
    if (s != RACT_OK) {
      rc = fail(&err);
      break;
    }
    StageResult& r = res[st];
    r.ran = 1;
    r.epochs = (int)et.train.size();
    // Mean over the epochs after the first (the first pays page faults and warm-up).
    const int skip = r.epochs > 1 ? 1 : 0;
    double sum = 0;
    for (int e = skip; e < r.epochs; e++) sum += et.train[e];
    r.seconds_per_epoch = sum / (r.epochs - skip);
    r.min_epoch = *std::min_element(et.train.begin() + skip, et.train.end());
    r.shapes.assign(fl.shapes.begin(), fl.shapes.begin() + fl.trace.n);
    r.gflop = flops(&fl.trace, r.epochs) * 1e-9;
    printf("%-16s %.4f s/epoch (%.1f GFLOP/epoch in GEMMs)  rss %.1f MB\n",
           ract_stage_name((ract_stage)st), r.seconds_per_epoch, r.gflop, ract_rss_now_mb());
    fflush(stdout);
  }

  // Evaluation: one full-ranking pass over the validation users (best of three), and the
  // GEMMs of one pass.
  double eval_s = 0, eval_floor = 0, eval_gflop = 0;
  std::vector<ract_gemm_shape> eval_shapes;
  ract_metrics m;
  if (rc == 0) {
    eval_s = 1e30;
    for (int rep = 0; rep < 3 && rc == 0; rep++) {
      if (rep == 2) fl.start();
      const double t0 = ract_clock_seconds();
      s = ract_trainer_evaluate(&t, &ds.valid, &m, &err);
      eval_s = std::min(eval_s, ract_clock_seconds() - t0);
      if (rep == 2) fl.stop();
      if (s != RACT_OK) rc = fail(&err);
    }
    if (rc == 0) {
      eval_shapes.assign(fl.shapes.begin(), fl.shapes.begin() + fl.trace.n);
      eval_gflop = flops(&fl.trace, 1) * 1e-9;
      printf("eval (%d users)    %.4f s (%.1f GFLOP in GEMMs)  ndcg@10 %.4f\n", ds.valid.rows,
             eval_s, eval_gflop, ract_metrics_get(&m, "ndcg@10"));
    }
  }
  // The peak of the training run (three stages and evaluations): before the scorer's files
  // and the floor's replay buffers.
  const double rss_train_mb = ract_rss_peak_mb();

  // Scoring through ract.h, per dtype.
  const char* dt_names[3] = {"fp32", "fp16", "int8"};
  ScoreResult sr[3];
  double floor_us = 0;
  if (rc == 0) {
    floor_us = gemv_floor_us(&t, 200);
    char dir[] = "/tmp/ract_bench_XXXXXX";
    const char* tmp = mkdtemp(dir);
    for (int d = 0; d < 3 && rc == 0; d++) {
      char path[256];
      snprintf(path, sizeof(path), "%s/model.%s.ract", tmp ? tmp : ".", dt_names[d]);
      size_t scratch_bytes = 0;
      void* scratch = ract_trainer_scratch(&t, &scratch_bytes);
      s = ract_export_inference(path, &t, (ract_file_dtype)d, nullptr, 0, scratch, scratch_bytes,
                                &err);
      if (s == RACT_OK) s = bench_scorer(path, &ds.test, score_users, &sr[d], &err);
      remove(path);
      if (s != RACT_OK) rc = fail(&err);
      if (rc == 0) {
        printf(
            "score %-5s p50 %8.1f us  p99 %8.1f us  (floor sgemv %.1f us, ratio %.2f)  %zu "
            "bytes\n",
            dt_names[d], sr[d].p50, sr[d].p99, floor_us, sr[d].p50 / floor_us, sr[d].bytes);
      }
    }
    if (tmp) rmdir(tmp);
  }

  // The floors: the recorded GEMMs replayed on BLIS alone.
  if (rc == 0) {
    for (int st = 0; st < RACT_STAGES; st++) {
      StageResult& r = res[st];
      if (!r.ran) continue;
      ract_gemm_trace tr = {r.shapes.data(), (int)r.shapes.size(), (int)r.shapes.size(), 0};
      r.floor = replay(&tr, r.epochs);
      printf("%-16s %.4f s/epoch  floor %.4f s  ratio %.2f\n", ract_stage_name((ract_stage)st),
             r.seconds_per_epoch, r.floor, r.seconds_per_epoch / r.floor);
    }
    ract_gemm_trace tr = {eval_shapes.data(), (int)eval_shapes.size(), (int)eval_shapes.size(), 0};
    eval_floor = replay(&tr, 1);
    printf("eval             %.4f s  floor %.4f s  ratio %.2f\n", eval_s, eval_floor,
           eval_s / eval_floor);
  }

  if (rc == 0) {
    char buf[8192];
    size_t n = 0;
    auto add = [&](const char* fmt, auto... args) {
      int w = snprintf(buf + n, sizeof(buf) - n, fmt, args...);
      if (w > 0) n = std::min(sizeof(buf) - 1, n + (size_t)w);
    };
    add("{\n  \"threads\": %d,\n  \"blis_kernel\": \"%s\",\n", threads, ract_gemm_kernel());
    add("  \"dataset\": %s,\n", ds_json);
    add("  \"model\": {\"preset\": \"%s\", \"hidden\": %d, \"latent\": %d, \"batch\": %d},\n",
        cfg.preset, cfg.model.mlp_hidden_size[0], t.actor.latent, cfg.train_batch_size);
    add("  \"train\": {");
    int first = 1;
    for (int st = 0; st < RACT_STAGES; st++) {
      if (!res[st].ran) continue;
      add("%s\n    \"%s\": {\"seconds_per_epoch\": %.6f, \"floor_seconds_per_epoch\": %.6f, "
          "\"ratio\": %.4f, \"min_seconds_per_epoch\": %.6f, \"min_ratio\": %.4f, "
          "\"epochs_timed\": %d, \"gemm_gflop_per_epoch\": %.3f}",
          first ? "" : ",", ract_stage_name((ract_stage)st), res[st].seconds_per_epoch,
          res[st].floor, res[st].seconds_per_epoch / res[st].floor, res[st].min_epoch,
          res[st].min_epoch / res[st].floor, res[st].epochs > 1 ? res[st].epochs - 1 : 1,
          res[st].gflop);
      first = 0;
    }
    add("\n  },\n");
    add("  \"eval\": {\"seconds\": %.6f, \"floor_seconds\": %.6f, \"ratio\": %.4f, \"users\": %d, "
        "\"gemm_gflop\": %.3f},\n",
        eval_s, eval_floor, eval_s / eval_floor, ds.valid.rows, eval_gflop);
    add("  \"score\": {\"floor_us\": %.3f, \"k\": 10, \"users\": %d", floor_us,
        std::min(score_users, ds.test.rows));
    for (int d = 0; d < 3; d++) {
      add(", \"%s\": {\"p50_us\": %.3f, \"p99_us\": %.3f, \"mean_us\": %.3f}", dt_names[d],
          sr[d].p50, sr[d].p99, sr[d].mean);
    }
    add("},\n");
    add("  \"peak_rss_mb\": %.1f,\n", rss_train_mb);
    add("  \"peak_rss_mb_after_load\": %.1f,\n  \"peak_rss_mb_whole_bench\": %.1f,\n", rss_data_mb,
        ract_rss_peak_mb());
    add("  \"weight_bytes\": {\"fp32\": %zu, \"fp16\": %zu, \"int8\": %zu}\n}\n", sr[0].bytes,
        sr[1].bytes, sr[2].bytes);
    fputs(buf, stdout);
    if (report != nullptr) {
      s = ract_atomic_write(report, buf, n, &err);
      if (s != RACT_OK) rc = fail(&err);
    }
  }
  ract_trainer_free(&t);
  ract_dataset_free(&ds);
  return rc;
}
