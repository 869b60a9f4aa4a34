// `ablate`: does the critic pay its way? For each seed it trains the actor once, then runs
// every arm from that same actor (the same weights, annealing counter and BatchNorm
// statistics; the same batches and draws, which depend only on the seed, the stage and
// the epoch):
//   critic      critic_pretrain, then finetune on -Q (RaCT; bit for bit what tools/train
//               runs with the same flags)
//   likelihood  finetune on the actor's own loss (the control: training longer, same
//               schedule, learning rate, batches, validation and best-weights rule)
//   feature     finetune on the critic's loss feature with every user weighted 1/B (the
//               control for the critic's per-user weights)
// and reports per seed and as mean ± std: the actor's best validation metric, each arm's and
// its gain, test NDCG@10 and @100, the critic's correlation with its target, and the paired
// differences critic − control. A table on stdout, --report JSON (README, "Ablation"),
// --plot SVG.
//
//   bazel run -c opt //tools:ablate -- --seeds=2020,2021,2022 --train=... --valid=...
//       --test=... --report=ablate.json --plot=ablate.svg
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/core/atomic_file.h"
#include "ract/core/clock.h"
#include "ract/data/dataset.h"
#include "ract/math/gemm.h"
#include "ract/train/trainer.h"
#include "tools/data_flags.h"
#include "tools/flags.h"
#include "tools/report.h"
#include "tools/train_flags.h"

namespace {

const char* kUsage =
    "usage: ablate [flags]\n"
    "For each seed: the actor once, then from it every arm (critic_pretrain + finetune on\n"
    "-Q; the controls: finetune on the actor's likelihood, and on the critic's loss feature\n"
    "at 1/B). Prints the table of the arms' gains; mean and std over the seeds.\n\n"
    "  --seeds=2020,2021,2022       training seeds (the data split keeps --seed)\n"
    "  --arms=critic,likelihood,feature   which arms (default all three)\n"
    "  --report=FILE.json           every number of the table (keys: README, \"Ablation\")\n"
    "  --plot=FILE.svg              each arm's gain per seed\n"
    "  --critic_draws=N             dropout draws per training user of the critic's check\n"
    "                               (default 5; 0: no check)\n"
    "  --quiet                      only the table\n"
    "Every model, schedule and data flag of tools/train (see train --help); the preset's\n"
    "finetune_objective is replaced by each arm's.\n\n";

constexpr int kMaxSeeds = 64;
constexpr int kArms = 3;
const char* const kArmName[kArms] = {"critic", "likelihood", "feature"};
const ract_finetune_objective kArmObjective[kArms] = {
    RACT_FINETUNE_CRITIC, RACT_FINETUNE_LIKELIHOOD, RACT_FINETUNE_FEATURE};

struct Result {
  double valid = NAN;  // best validation value of the stage's kept weights
  double test10 = NAN, test100 = NAN;
  double corr = NAN;  // the critic's check (critic arm)
  int64_t pairs = 0;
  int best_epoch = -1;
  double seconds = 0;
  uint64_t start_hash = 0;  // an arm's actor weights as its first stage begins
};

struct SeedRun {
  uint64_t seed;
  uint64_t actor_hash;
  Result actor;
  Result arm[kArms];
};

int fail(const ract_error* e) {
  fprintf(stderr, "ablate: %s\n", e->msg);
  return e->status == RACT_ERR_ARG ? 2 : 1;
}

uint64_t fnv1a(const void* p, size_t n) {
  const uint8_t* b = (const uint8_t*)p;
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

Result stage_result(const ract_trainer* t, ract_stage s) {
  const ract_stage_summary* st = &t->stage[s];
  Result r;
  if (st->best_valid.users > 0) r.valid = ract_metrics_get(&st->best_valid, t->cfg.valid_metric);
  if (st->test.users > 0) {
    r.test10 = ract_metrics_get(&st->test, "ndcg@10");
    r.test100 = ract_metrics_get(&st->test, "ndcg@100");
  }
  r.best_epoch = st->best_epoch;
  r.seconds = st->seconds;
  return r;
}

struct Stat {
  double mean, std;
  int n;
};

Stat stat(const std::vector<double>& v) {
  Stat s = {0, NAN, 0};
  for (double x : v) {
    if (isfinite(x)) s.mean += x, s.n++;
  }
  if (s.n == 0) return {NAN, NAN, 0};
  s.mean /= s.n;
  if (s.n > 1) {
    double ss = 0;
    for (double x : v) {
      if (isfinite(x)) ss += (x - s.mean) * (x - s.mean);
    }
    s.std = sqrt(ss / (s.n - 1));
  }
  return s;
}

// The values of one field over the seeds: the actor's (arm -1) or an arm's; with `gain`, the
// arm's value minus the actor's; with `minus` >= 0, minus that arm's (paired).
std::vector<double> column(const std::vector<SeedRun>& runs, int arm, double Result::*field,
                           bool gain, int minus = -1) {
  std::vector<double> v;
  for (const SeedRun& r : runs) {
    double x = arm < 0 ? r.actor.*field : r.arm[arm].*field;
    if (gain) x -= r.actor.*field;
    if (minus >= 0) x -= r.arm[minus].*field;
    v.push_back(x);
  }
  return v;
}

void print_stat(const char* fmt, Stat s) {
  char buf[64];
  if (!isfinite(s.mean)) {
    printf(" %17s", "-");
    return;
  }
  snprintf(buf, sizeof(buf), fmt, s.mean, isfinite(s.std) ? s.std : 0.0);
  printf(" %17s", buf);
}

void json_stat(FILE* f, Stat s) {
  fputs("{\"mean\": ", f);
  ract_json_number(f, s.mean);
  fputs(", \"std\": ", f);
  ract_json_number(f, s.std);
  fputc('}', f);
}

void json_result(FILE* f, const Result& r, const Result* actor) {
  fputs("{\"valid\": ", f);
  ract_json_number(f, r.valid);
  if (actor != nullptr) {
    fputs(", \"gain\": ", f);
    ract_json_number(f, r.valid - actor->valid);
  }
  fputs(", \"test_ndcg@10\": ", f);
  ract_json_number(f, r.test10);
  fputs(", \"test_ndcg@100\": ", f);
  ract_json_number(f, r.test100);
  fprintf(f, ", \"best_epoch\": %d, \"seconds\": ", r.best_epoch);
  ract_json_number(f, r.seconds);
  if (actor != nullptr) {
    fprintf(f, ", \"start_hash\": \"%016llx\"", (unsigned long long)r.start_hash);
    fputs(", \"corr\": ", f);
    ract_json_number(f, r.corr);
    fprintf(f, ", \"pairs\": %lld", (long long)r.pairs);
  }
  fputc('}', f);
}

ract_status write_report(const char* path, const ract_train_config& cfg, const ract_dataset& ds,
                         const int* arms, int n_arms, const std::vector<SeedRun>& runs,
                         ract_error* err) {
  ract_atomic_file af;
  RACT_CHECK(ract_atomic_open(&af, path, err));
  FILE* f = af.f;
  fputs("{\n  \"preset\": ", f);
  ract_json_string(f, cfg.preset);
  fputs(",\n  \"valid_metric\": ", f);
  ract_json_string(f, cfg.valid_metric);
  fputs(",\n  \"data\": ", f);
  ract_report_data_json(f, &ds);
  fputs(",\n  \"arms\": [", f);
  for (int a = 0; a < n_arms; a++) fprintf(f, "%s\"%s\"", a ? ", " : "", kArmName[arms[a]]);
  fputs("],\n  \"seeds\": [", f);
  for (size_t i = 0; i < runs.size(); i++) {
    const SeedRun& r = runs[i];
    fprintf(f, "%s\n    {\"seed\": %llu, \"actor_hash\": \"%016llx\", \"actor\": ", i ? "," : "",
            (unsigned long long)r.seed, (unsigned long long)r.actor_hash);
    json_result(f, r.actor, nullptr);
    for (int a = 0; a < n_arms; a++) {
      fprintf(f, ", \"%s\": ", kArmName[arms[a]]);
      json_result(f, r.arm[arms[a]], &r.actor);
    }
    fputc('}', f);
  }
  fputs("\n  ],\n  \"summary\": {\n    \"actor\": {\"valid\": ", f);
  json_stat(f, stat(column(runs, -1, &Result::valid, false)));
  fputs(", \"test_ndcg@10\": ", f);
  json_stat(f, stat(column(runs, -1, &Result::test10, false)));
  fputs(", \"test_ndcg@100\": ", f);
  json_stat(f, stat(column(runs, -1, &Result::test100, false)));
  fputc('}', f);
  for (int k = 0; k < n_arms; k++) {
    const int a = arms[k];
    fprintf(f, ",\n    \"%s\": {\"valid\": ", kArmName[a]);
    json_stat(f, stat(column(runs, a, &Result::valid, false)));
    fputs(", \"gain\": ", f);
    json_stat(f, stat(column(runs, a, &Result::valid, true)));
    fputs(", \"test_ndcg@10\": ", f);
    json_stat(f, stat(column(runs, a, &Result::test10, false)));
    fputs(", \"test_ndcg@100\": ", f);
    json_stat(f, stat(column(runs, a, &Result::test100, false)));
    fputs(", \"corr\": ", f);
    json_stat(f, stat(column(runs, a, &Result::corr, false)));
    fputc('}', f);
  }
  fputs("\n  },\n  \"paired\": {", f);
  int first = 1;
  for (int k = 0; k < n_arms; k++) {
    if (arms[k] == 0) continue;
    for (int j = 0; j < n_arms; j++) {
      if (arms[j] != 0) continue;
      fprintf(f, "%s\n    \"critic-%s\": {\"valid\": ", first ? "" : ",", kArmName[arms[k]]);
      json_stat(f, stat(column(runs, 0, &Result::valid, false, arms[k])));
      fputs(", \"test_ndcg@10\": ", f);
      json_stat(f, stat(column(runs, 0, &Result::test10, false, arms[k])));
      fputs(", \"test_ndcg@100\": ", f);
      json_stat(f, stat(column(runs, 0, &Result::test100, false, arms[k])));
      fputc('}', f);
      first = 0;
    }
  }
  fputs("\n  }\n}\n", f);
  return ract_atomic_commit(&af, err);
}

// Each arm's gain over the actor on the validation metric, one dot per seed, the seeds'
// dots joined across the arms (paired), the mean as a bar.
ract_status write_plot(const char* path, const ract_train_config& cfg, const int* arms, int n_arms,
                       const std::vector<SeedRun>& runs, ract_error* err) {
  double lo = 0, hi = 0;
  for (const SeedRun& r : runs) {
    for (int k = 0; k < n_arms; k++) {
      const double g = r.arm[arms[k]].valid - r.actor.valid;
      if (isfinite(g)) lo = fmin(lo, g), hi = fmax(hi, g);
    }
  }
  if (hi - lo < 1e-6) hi = lo + 1e-3;
  const double pad = 0.08 * (hi - lo);
  lo -= pad;
  hi += pad;
  const double W = 520, H = 360, x0 = 70, x1 = W - 20, y0 = 40, y1 = H - 50;
  auto X = [&](int k) { return x0 + (x1 - x0) * (k + 0.5) / n_arms; };
  auto Y = [&](double v) { return y1 - (y1 - y0) * (v - lo) / (hi - lo); };
  ract_atomic_file af;
  RACT_CHECK(ract_atomic_open(&af, path, err));
  FILE* f = af.f;
  fprintf(f,
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
          "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
          "fill=\"white\"/>\n",
          W, H);
  fprintf(f,
          "<text x=\"%.0f\" y=\"20\" text-anchor=\"middle\">gain over the actor, valid %s "
          "(preset %s, %zu seeds)</text>\n",
          W / 2, cfg.valid_metric, cfg.preset, runs.size());
  for (int i = 0; i <= 4; i++) {
    const double v = lo + (hi - lo) * i / 4;
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text "
            "x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%+.4f</text>\n",
            x0, Y(v), x1, Y(v), x0 - 4, Y(v) + 4, v);
  }
  fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", x0, Y(0),
          x1, Y(0));
  for (const SeedRun& r : runs) {
    fputs("<polyline fill=\"none\" stroke=\"#8aa\" points=\"", f);
    for (int k = 0; k < n_arms; k++) {
      const double g = r.arm[arms[k]].valid - r.actor.valid;
      if (isfinite(g)) fprintf(f, "%.1f,%.1f ", X(k), Y(g));
    }
    fputs("\"/>\n", f);
    for (int k = 0; k < n_arms; k++) {
      const double g = r.arm[arms[k]].valid - r.actor.valid;
      if (isfinite(g)) {
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#268\"/>\n", X(k), Y(g));
      }
    }
  }
  for (int k = 0; k < n_arms; k++) {
    const Stat s = stat(column(runs, arms[k], &Result::valid, true));
    if (isfinite(s.mean)) {
      fprintf(f,
              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c33\" "
              "stroke-width=\"3\"/>\n",
              X(k) - 25, Y(s.mean), X(k) + 25, Y(s.mean));
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", X(k), y1 + 20,
            kArmName[arms[k]]);
    if (isfinite(s.mean)) {
      fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%+.4f</text>\n", X(k), y1 + 36,
              s.mean);
    }
  }
  fputs("</svg>\n", f);
  return ract_atomic_commit(&af, err);
}

int parse_list(const char* v, std::vector<std::string>* out) {
  std::string s = v;
  size_t at = 0;
  while (at <= s.size()) {
    size_t comma = s.find(',', at);
    if (comma == std::string::npos) comma = s.size();
    if (comma == at) return 0;
    out->push_back(s.substr(at, comma - at));
    at = comma + 1;
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  ract_flag_chdir_to_invocation();
  ract_error err = {};
  // The tool's own flags; the rest go to tools/train's parser.
  std::vector<uint64_t> seeds = {2020, 2021, 2022};
  int arms[kArms] = {0, 1, 2};
  int n_arms = kArms;
  const char* report = nullptr;
  const char* plot = nullptr;
  int critic_draws = 5;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      printf("%s%s", kUsage, ract_data_flags_usage());
      return 0;
    } else if ((v = ract_flag_value(a, "seeds"))) {
      std::vector<std::string> items;
      seeds.clear();
      if (!parse_list(v, &items) || items.size() > (size_t)kMaxSeeds) {
        fprintf(stderr, "ablate: %s: expected 1 to %d seeds, comma-separated\n", a, kMaxSeeds);
        return 2;
      }
      for (const std::string& s : items) {
        char* end = nullptr;
        const unsigned long long x = strtoull(s.c_str(), &end, 10);
        if (s[0] == '-' || *end != '\0' || end == s.c_str()) {
          fprintf(stderr, "ablate: %s: \"%s\" is not a seed (an integer >= 0)\n", a, s.c_str());
          return 2;
        }
        for (uint64_t prev : seeds) {
          if (prev == x) {
            fprintf(stderr, "ablate: %s: seed %llu twice\n", a, x);
            return 2;
          }
        }
        seeds.push_back(x);
      }
    } else if ((v = ract_flag_value(a, "arms"))) {
      std::vector<std::string> items;
      n_arms = 0;
      int seen[kArms] = {0, 0, 0};
      if (!parse_list(v, &items) || items.size() > (size_t)kArms) {
        fprintf(stderr, "ablate: %s: expected arms among critic,likelihood,feature\n", a);
        return 2;
      }
      for (const std::string& s : items) {
        int k = 0;
        while (k < kArms && s != kArmName[k]) k++;
        if (k == kArms || seen[k]) {
          fprintf(stderr,
                  "ablate: %s: \"%s\" is not an arm, or is given twice "
                  "(critic, likelihood, feature)\n",
                  a, s.c_str());
          return 2;
        }
        seen[k] = 1;
        arms[n_arms++] = k;
      }
    } else if ((v = ract_flag_value(a, "report"))) {
      report = v;
    } else if ((v = ract_flag_value(a, "plot"))) {
      plot = v;
    } else if ((v = ract_flag_value(a, "critic_draws"))) {
      if (!ract_flag_int(v, 0, 100, &critic_draws)) {
        fprintf(stderr, "ablate: %s: expected draws in [0, 100]\n", a);
        return 2;
      }
    } else if (ract_flag_value(a, "out") || ract_flag_value(a, "checkpoint") ||
               ract_flag_value(a, "resume") || ract_flag_value(a, "init_from") ||
               ract_flag_value(a, "train_stage") || ract_flag_value(a, "finetune_objective") ||
               ract_flag_value(a, "stop_after_batches")) {
      fprintf(stderr,
              "ablate: %s: not an ablation flag (the tool runs every stage and arm, "
              "and writes no weight file)\n",
              a);
      return 2;
    } else {
      rest.push_back(argv[i]);
    }
  }
  static ract_train_flags f;
  if (ract_train_flags_parse(&f, (int)rest.size(), rest.data(), &err) != RACT_OK) {
    return fail(&err);
  }
  if (ract_data_flags_finish(&f.data, argv[0], &err) != RACT_OK) return fail(&err);
  const int quiet = f.quiet;
  ract_gemm_set_threads(f.cfg.threads);
  ract_dataset ds;
  if (ract_dataset_load(&ds, &f.data.opt, &err) != RACT_OK) return fail(&err);
  if (ds.valid.rows == 0) {
    fprintf(stderr, "ablate: the data has no validation users: the arms cannot be compared\n");
    ract_dataset_free(&ds);
    return 2;
  }
  if (!quiet) {
    ract_dataset_print_counts(stdout, &ds);
    printf("ablation: preset %s, %zu seed(s), valid %s\n", f.cfg.preset, seeds.size(),
           f.cfg.valid_metric);
    fflush(stdout);
  }

  std::vector<SeedRun> runs;
  std::vector<float> q(1), target(1);
  int rc = 0;
  for (uint64_t seed : seeds) {
    SeedRun run;
    run.seed = seed;
    // The actor, once.
    ract_train_config ca = f.cfg;
    ca.seed = seed;
    ca.run_stage[RACT_STAGE_ACTOR_PRETRAIN] = 1;
    ca.run_stage[RACT_STAGE_CRITIC_PRETRAIN] = 0;
    ca.run_stage[RACT_STAGE_FINETUNE] = 0;
    ract_trainer t;
    size_t need = 0;
    if (ract_trainer_bytes(&ca, &ds, &need, &err) != RACT_OK ||
        ract_flag_check_memory(need, "the model", &err) != RACT_OK ||
        ract_trainer_create(&t, &ca, &ds, nullptr, 0, &err) != RACT_OK) {
      rc = fail(&err);
      break;
    }
    if (ract_trainer_run(&t, nullptr, &err) != RACT_OK) {
      rc = fail(&err);
      ract_trainer_free(&t);
      break;
    }
    run.actor = stage_result(&t, RACT_STAGE_ACTOR_PRETRAIN);
    std::vector<float> actor(t.actor.w.params, t.actor.w.params + t.actor.w.n);
    run.actor_hash = fnv1a(actor.data(), actor.size() * sizeof(float));
    const ract_anneal anneal = t.anneal;
    float bn_mean[RACT_CRITIC_FEATURES], bn_var[RACT_CRITIC_FEATURES];
    memcpy(bn_mean, t.critic.bn_mean, sizeof(bn_mean));
    memcpy(bn_var, t.critic.bn_var, sizeof(bn_var));
    ract_trainer_free(&t);
    if (!quiet) {
      printf("seed %llu: actor valid %.4f (%.1f s), actor %016llx\n", (unsigned long long)seed,
             run.actor.valid, run.actor.seconds, (unsigned long long)run.actor_hash);
      fflush(stdout);
    }
    // Every arm from that actor.
    for (int k = 0; k < n_arms && rc == 0; k++) {
      const int arm = arms[k];
      ract_train_config cf = ca;
      cf.run_stage[RACT_STAGE_ACTOR_PRETRAIN] = 0;
      cf.run_stage[RACT_STAGE_CRITIC_PRETRAIN] = arm == 0;
      cf.run_stage[RACT_STAGE_FINETUNE] = 1;
      cf.model.finetune_objective = kArmObjective[arm];
      if (ract_trainer_create(&t, &cf, &ds, nullptr, 0, &err) != RACT_OK) {
        rc = fail(&err);
        break;
      }
      memcpy(t.actor.w.params, actor.data(), actor.size() * sizeof(float));
      memcpy(t.critic.bn_mean, bn_mean, sizeof(bn_mean));
      memcpy(t.critic.bn_var, bn_var, sizeof(bn_var));
      t.anneal = anneal;
      const uint64_t start_hash = fnv1a(t.actor.w.params, t.actor.w.n * sizeof(float));
      ract_status s = ract_trainer_run(&t, nullptr, &err);
      Result& r = run.arm[arm];
      if (s == RACT_OK) r = stage_result(&t, RACT_STAGE_FINETUNE);
      r.start_hash = start_hash;
      if (s == RACT_OK && arm == 0) {
        r.seconds += t.stage[RACT_STAGE_CRITIC_PRETRAIN].seconds;
        if (critic_draws > 0) {
          ract_critic_fit fit;
          s = ract_trainer_critic_check(&t, critic_draws, q.data(), target.data(), 0, &fit, &err);
          r.corr = fit.corr;
          r.pairs = fit.pairs;
        }
      }
      ract_trainer_free(&t);
      if (s != RACT_OK) {
        rc = fail(&err);
        break;
      }
      if (!quiet) {
        printf("seed %llu: %-10s valid %.4f (%+.4f)  test ndcg@10 %.4f  (%.1f s)\n",
               (unsigned long long)seed, kArmName[arm], r.valid, r.valid - run.actor.valid,
               r.test10, r.seconds);
        fflush(stdout);
      }
    }
    if (rc != 0) break;
    runs.push_back(run);
  }
  if (rc != 0) {
    ract_dataset_free(&ds);
    return rc;
  }

  // The table.
  printf("\n%-6s %-10s %9s %9s %9s %9s %6s\n", "seed", "arm", "valid", "gain", "test@10",
         "test@100", "corr");
  for (const SeedRun& r : runs) {
    printf("%-6llu %-10s %9.4f %9s %9.4f %9.4f %6s\n", (unsigned long long)r.seed, "actor",
           r.actor.valid, "", r.actor.test10, r.actor.test100, "");
    for (int k = 0; k < n_arms; k++) {
      const Result& a = r.arm[arms[k]];
      char corr[16] = "";
      if (isfinite(a.corr)) snprintf(corr, sizeof(corr), "%.3f", a.corr);
      printf("%-6s %-10s %9.4f %+9.4f %9.4f %9.4f %6s\n", "", kArmName[arms[k]], a.valid,
             a.valid - r.actor.valid, a.test10, a.test100, corr);
    }
  }
  printf("\nmean ± std over %zu seed(s):\n%-17s %17s %17s %17s %17s\n", runs.size(), "", "valid",
         "gain", "test ndcg@10", "test ndcg@100");
  printf("%-17s", "actor");
  print_stat("%.4f±%.4f", stat(column(runs, -1, &Result::valid, false)));
  printf(" %17s", "");
  print_stat("%.4f±%.4f", stat(column(runs, -1, &Result::test10, false)));
  print_stat("%.4f±%.4f", stat(column(runs, -1, &Result::test100, false)));
  printf("\n");
  for (int k = 0; k < n_arms; k++) {
    printf("%-17s", kArmName[arms[k]]);
    print_stat("%.4f±%.4f", stat(column(runs, arms[k], &Result::valid, false)));
    print_stat("%+.4f±%.4f", stat(column(runs, arms[k], &Result::valid, true)));
    print_stat("%.4f±%.4f", stat(column(runs, arms[k], &Result::test10, false)));
    print_stat("%.4f±%.4f", stat(column(runs, arms[k], &Result::test100, false)));
    printf("\n");
  }
  for (int k = 0; k < n_arms; k++) {
    if (arms[k] == 0) continue;
    bool with_critic = false;
    for (int j = 0; j < n_arms; j++) with_critic |= arms[j] == 0;
    if (!with_critic) break;
    char name[32];
    snprintf(name, sizeof(name), "critic-%s", kArmName[arms[k]]);
    printf("%-17s", name);
    print_stat("%+.4f±%.4f", stat(column(runs, 0, &Result::valid, false, arms[k])));
    printf(" %17s", "");
    print_stat("%+.4f±%.4f", stat(column(runs, 0, &Result::test10, false, arms[k])));
    print_stat("%+.4f±%.4f", stat(column(runs, 0, &Result::test100, false, arms[k])));
    printf("  (paired)\n");
  }
  ract_status s = RACT_OK;
  if (report != nullptr) {
    s = write_report(report, f.cfg, ds, arms, n_arms, runs, &err);
    if (s == RACT_OK) printf("wrote %s\n", report);
  }
  if (s == RACT_OK && plot != nullptr) {
    s = write_plot(plot, f.cfg, arms, n_arms, runs, &err);
    if (s == RACT_OK) printf("wrote %s\n", plot);
  }
  if (s != RACT_OK) rc = fail(&err);
  ract_dataset_free(&ds);
  return rc;
}
