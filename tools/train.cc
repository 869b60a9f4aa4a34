// `train`: RaCT's three stages on a dataset, then the test table, the weight file, and
// optionally a JSON report and an SVG plot of the run.
//
//   bazel run -c opt //tools:train                      # the shipped MovieLens latest-small
//   bazel run -c opt //tools:train -- --preset=recbole
//       --train=.../train.tsv --valid=.../valid.tsv --test=.../test.tsv --out=model.ract
//
// Hyper-parameter flags carry RecBole's config keys (`--mlp_hidden_size=[600]`,
// `--learning_rate=1e-3`, ...); `--preset` (paper | recbole) sets every default first.
#include <ctype.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "ract/data/dataset.h"
#include "ract/deploy/model_file.h"
#include "ract/eval/metrics.h"
#include "ract/math/gemm.h"
#include "ract/train/export.h"
#include "ract/train/trainer.h"
#include "tools/data_flags.h"
#include "tools/flags.h"
#include "tools/report.h"

namespace {

const char* kUsage =
    "usage: train [flags]\n"
    "Trains RaCT (actor_pretrain -> critic_pretrain -> finetune) and writes the model.\n\n"
    "Run:\n"
    "  --preset=paper|recbole       every default below (default paper)\n"
    "  --train_stage=all|actor_pretrain|critic_pretrain|finetune   (default all)\n"
    "  --init_from=CKPT             weights from a checkpoint (to run a single later stage)\n"
    "  --resume=CKPT                continue an interrupted run exactly (same data flags)\n"
    "  --out=FILE                   the inference weight file (default model.ract)\n"
    "  --dtype=fp32|fp16|int8       its weight type (default fp32)\n"
    "  --checkpoint=FILE            write a checkpoint at the end of every stage (and on\n"
    "                               SIGINT/SIGTERM; default there: OUT.ckpt)\n"
    "  --checkpoint_every=N         ... and every N epochs\n"
    "  --report=FILE.json           the run's report\n"
    "  --plot=FILE.svg              training curves and the critic's predictions\n"
    "  --threads=N                  BLIS threads (default 1)\n"
    "  --quiet                      only the final tables\n"
    "Model (RecBole's keys):\n"
    "  --mlp_hidden_size=[600] --latent_dimension=N --dropout_prob=0.5\n"
    "  --anneal_cap=0.2 --total_anneal_steps=200000 --critic_layers=[100,100,10]\n"
    "  --metrics_k=100\n"
    "Model variants (a preset sets them all; RACT_SPEC.md):\n"
    "  --head=split|two --dropout_style=keep|inverted --eps_std=X\n"
    "  --critic_loss_with_kl=0|1 --bn_mode=batch|running --ndcg_gain=sqrt|one\n"
    "  --init=xavier_normal|xavier_uniform --anneal_rule=per_loss|per_batch --critic_l2=X\n"
    "  --bn_eps=X --bn_momentum=X --finetune_critic=0|1\n"
    "Schedule:\n"
    "  --pretrain_epochs=N (actor) --critic_epochs=N --epochs=N (finetune)\n"
    "  --learning_rate=X (actor) --critic_learning_rate=X --finetune_learning_rate=X\n"
    "  --train_batch_size=N --stopping_step=N (finetune) --valid_metric=ndcg@100\n"
    "  --topk=10,100 (metric cut-offs) --eval_batch=N\n\n";

double now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int fail(const ract_error* e) {
  fprintf(stderr, "train: %s\n", e->msg);
  return e->status == RACT_ERR_ARG ? 2 : 1;
}

int bad_flag(const char* arg, const char* expected) {
  fprintf(stderr, "train: %s: expected %s\n", arg, expected);
  return 2;
}

volatile int g_stop = 0;  // set by SIGINT/SIGTERM: stop after the current batch

void on_signal(int sig) {
  g_stop = sig;
  signal(sig, SIG_DFL);  // a second signal ends the process at once
}

struct Progress {
  int tty;
  int quiet;
  double t_batch;
  ract_trainer* trainer;
  const char* checkpoint;  // NULL: no periodic checkpoints
  int every;
  int epochs_done;
  const ract_file_kv* meta;
  int n_meta;
  ract_status status;  // of the last checkpoint written from a callback
  ract_error err;
};

void write_checkpoint(Progress* p, const char* why) {
  if (p->status != RACT_OK) return;
  p->status = ract_export_checkpoint(p->checkpoint, p->trainer, p->meta, p->n_meta, &p->err);
  if (p->status == RACT_OK && !p->quiet) {
    if (p->tty) fputs("\r\033[K", stderr);
    printf("checkpoint %s (%s)\n", p->checkpoint, why);
  }
}

void on_stage_end(void* ctx, int stage) {
  Progress* p = (Progress*)ctx;
  if (p->checkpoint != nullptr) write_checkpoint(p, "end of stage");
}

void on_batch(void* ctx, int stage, int epoch, int batch, int n_batches,
              const ract_step_stats* st) {
  Progress* p = (Progress*)ctx;
  if (!p->tty || p->quiet) return;
  double t = now();
  if (batch + 1 < n_batches && t - p->t_batch < 0.1) return;
  p->t_batch = t;
  const int W = 24;
  int fill = (int)((double)(batch + 1) / n_batches * W);
  char bar[W + 1];
  for (int i = 0; i < W; i++) bar[i] = i < fill ? '#' : '.';
  bar[W] = '\0';
  fprintf(stderr, "\r%-15s epoch %3d [%s] %4d/%-4d loss %-10.5g",
          ract_stage_name((ract_stage)stage), epoch + 1, bar, batch + 1, n_batches, st->loss);
  fflush(stderr);
}

void on_epoch(void* ctx, const ract_epoch_log* lg, const ract_metrics* valid) {
  Progress* p = (Progress*)ctx;
  if (p->quiet) {
    if (p->checkpoint != nullptr && p->every > 0 && ++p->epochs_done % p->every == 0) {
      write_checkpoint(p, "periodic");
    }
    return;
  }
  if (p->tty) fputs("\r\033[K", stderr);
  char extra[160] = "";
  if (lg->stage == RACT_STAGE_ACTOR_PRETRAIN) {
    snprintf(extra, sizeof(extra), "ce %.4g  kl %.4g  beta %.4g", lg->ce, lg->kl, lg->beta);
  } else {
    snprintf(extra, sizeof(extra), "Q %.4f  ndcg target %.4f", lg->q, lg->target);
  }
  printf("%-15s epoch %3d  loss %-10.6g %s", ract_stage_name((ract_stage)lg->stage), lg->epoch + 1,
         lg->loss, extra);
  if (valid != nullptr && valid->users > 0) {
    printf("  valid ndcg@10 %.4f", ract_metrics_get(valid, "ndcg@10"));
    double v100 = ract_metrics_get(valid, "ndcg@100");
    if (!isnan(v100)) printf(" ndcg@100 %.4f", v100);
    printf(" mrr@10 %.4f", ract_metrics_get(valid, "mrr@10"));
  }
  printf("  %.2fs", lg->seconds_train + lg->seconds_valid);
  if (lg->seconds_valid > 0) printf(" (valid %.2fs)", lg->seconds_valid);
  printf("\n");
  fflush(stdout);
  if (p->checkpoint != nullptr && p->every > 0 && ++p->epochs_done % p->every == 0) {
    write_checkpoint(p, "periodic");
  }
}

}  // namespace

int main(int argc, char** argv) {
  ract_flag_chdir_to_invocation();
  ract_error err = {};
  const char* preset = "paper";
  for (int i = 1; i < argc; i++) {
    if (const char* v = ract_flag_value(argv[i], "preset")) preset = v;
  }
  ract_train_config cfg;
  if (ract_train_config_preset(&cfg, preset, &err) != RACT_OK) {
    fprintf(stderr, "train: --preset=%s: expected paper or recbole\n", preset);
    return 2;
  }
  ract_data_flags flags;
  ract_data_flags_init(&flags);
  const char* out = "model.ract";
  const char* report = nullptr;
  const char* plot = nullptr;
  const char* checkpoint = nullptr;
  const char* init_from = nullptr;
  const char* resume = nullptr;
  int checkpoint_every = 0;
  ract_file_dtype dtype = RACT_FILE_F32;
  int quiet = 0;

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
    } else if (!strcmp(a, "--quiet")) {
      quiet = 1;
    } else if ((v = ract_flag_value(a, "train_stage"))) {
      int s = ract_stage_parse(v);
      if (strcmp(v, "all") != 0 && s < 0) {
        return bad_flag(a, "all, actor_pretrain, critic_pretrain or finetune");
      }
      for (int k = 0; k < RACT_STAGES; k++) cfg.run_stage[k] = s < 0 || k == s;
    } else if ((v = ract_flag_value(a, "out"))) {
      out = v;
    } else if ((v = ract_flag_value(a, "report"))) {
      report = v;
    } else if ((v = ract_flag_value(a, "plot"))) {
      plot = v;
    } else if ((v = ract_flag_value(a, "checkpoint"))) {
      checkpoint = v;
    } else if ((v = ract_flag_value(a, "init_from"))) {
      init_from = v;
    } else if ((v = ract_flag_value(a, "resume"))) {
      resume = v;
    } else if ((v = ract_flag_value(a, "checkpoint_every"))) {
      if (!ract_flag_int(v, 0, 1000000, &checkpoint_every)) return bad_flag(a, "epochs >= 0");
    } else if ((v = ract_flag_value(a, "dtype"))) {
      if (ract_model_file_parse_dtype(v, &dtype, &err) != RACT_OK) {
        return bad_flag(a, "fp32, fp16 or int8");
      }
    } else if ((v = ract_flag_value(a, "threads"))) {
      if (!ract_flag_int(v, 1, 256, &cfg.threads)) return bad_flag(a, "a thread count 1..256");
    } else if ((v = ract_flag_value(a, "pretrain_epochs"))) {
      if (!ract_flag_int(v, 0, 1000000, &cfg.stage_epochs[0])) return bad_flag(a, "epochs >= 0");
    } else if ((v = ract_flag_value(a, "critic_epochs"))) {
      if (!ract_flag_int(v, 0, 1000000, &cfg.stage_epochs[1])) return bad_flag(a, "epochs >= 0");
    } else if ((v = ract_flag_value(a, "epochs"))) {
      if (!ract_flag_int(v, 0, 1000000, &cfg.stage_epochs[2])) return bad_flag(a, "epochs >= 0");
    } else if ((v = ract_flag_value(a, "learning_rate"))) {
      if (!ract_flag_float(v, 0.0, 10.0, &cfg.stage_lr[0])) return bad_flag(a, "a rate in [0, 10]");
    } else if ((v = ract_flag_value(a, "critic_learning_rate"))) {
      if (!ract_flag_float(v, 0.0, 10.0, &cfg.stage_lr[1])) return bad_flag(a, "a rate in [0, 10]");
    } else if ((v = ract_flag_value(a, "finetune_learning_rate"))) {
      if (!ract_flag_float(v, 0.0, 10.0, &cfg.stage_lr[2])) return bad_flag(a, "a rate in [0, 10]");
    } else if ((v = ract_flag_value(a, "train_batch_size"))) {
      if (!ract_flag_int(v, 1, 1 << 24, &cfg.train_batch_size)) return bad_flag(a, "a size >= 1");
    } else if ((v = ract_flag_value(a, "eval_batch"))) {
      if (!ract_flag_int(v, 1, 1 << 20, &cfg.eval_batch)) return bad_flag(a, "a size >= 1");
    } else if ((v = ract_flag_value(a, "stopping_step"))) {
      if (!ract_flag_int(v, 0, 1000000, &cfg.stopping_step[RACT_STAGE_FINETUNE])) {
        return bad_flag(a, "a patience >= 0 (0: never stop early)");
      }
    } else if ((v = ract_flag_value(a, "valid_metric"))) {
      snprintf(cfg.valid_metric, sizeof(cfg.valid_metric), "%s", v);
      for (char* c = cfg.valid_metric; *c; c++) *c = (char)tolower(*c);
    } else if ((v = ract_flag_value(a, "topk"))) {
      if (!ract_flag_list(v, cfg.topk, RACT_METRICS_MAX_K, &cfg.n_topk)) {
        return bad_flag(a, "a list of cut-offs such as 10,100");
      }
    } else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') != nullptr) {
      // Every model key: RecBole's (mlp_hidden_size, latent_dimension, dropout_prob,
      // anneal_cap, total_anneal_steps, critic_layers, metrics_k) and the variant switches.
      std::string key(a + 2, strchr(a, '=') - (a + 2));
      if (ract_model_config_set(&cfg.model, key.c_str(), strchr(a, '=') + 1, &err) != RACT_OK) {
        fprintf(stderr, "train: %s (see --help)\n", err.msg);
        return 2;
      }
    } else {
      fprintf(stderr, "train: unknown flag %s (see --help)\n", a);
      return 2;
    }
  }
  if (ract_data_flags_finish(&flags, argv[0], &err) != RACT_OK) return fail(&err);
  cfg.seed = flags.opt.seed;  // --seed (a data flag too) drives the split and the training

  if (resume != nullptr && init_from != nullptr) {
    fprintf(stderr, "train: --resume and --init_from exclude each other\n");
    return 2;
  }
  ract_train_state state;
  if (resume != nullptr) {
    // The interrupted run's configuration, whatever the flags say.
    if (ract_read_checkpoint_state(resume, &state, &err) != RACT_OK) return fail(&err);
    cfg = state.cfg;
  }
  ract_blas_set_threads(cfg.threads);
  double t0 = now();
  ract_dataset ds;
  if (ract_dataset_load(&ds, &flags.opt, &err) != RACT_OK) return fail(&err);
  if (!quiet) {
    ract_dataset_print_counts(stdout, &ds);
    printf("loaded in %.2f s; preset %s, BLIS %s, %d thread(s)\n", now() - t0, cfg.preset,
           ract_blas_kernel(), cfg.threads);
    char line[1024];
    ract_model_config_format(&cfg.model, line, sizeof(line));
    printf("model: %s\n", line);
  }

  // Provenance for the files written.
  char date[32], users[32], items[32], pairs[32];
  // SOURCE_DATE_EPOCH (the reproducible-builds convention) fixes the date, so that the
  // same seed and data give a byte-identical file.
  const char* epoch = getenv("SOURCE_DATE_EPOCH");
  time_t now_t = epoch != nullptr ? (time_t)strtoll(epoch, nullptr, 10) : time(nullptr);
  strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now_t));
  snprintf(users, sizeof(users), "%d", ds.n_users);
  snprintf(items, sizeof(items), "%d", ds.n_items);
  snprintf(pairs, sizeof(pairs), "%lld", (long long)ds.train.nnz);
  ract_file_kv meta[12] = {
      {"dataset", ds.name}, {"preset", cfg.preset}, {"users", users},
      {"items", items},     {"train_pairs", pairs}, {"date", date},
  };
  int n_meta = 6;

  std::string ckpt_default = std::string(out) + ".ckpt";
  Progress prog = {isatty(2), quiet, 0,      nullptr, checkpoint, checkpoint_every,
                   0,         meta,  n_meta, RACT_OK, {}};
  ract_trainer t;
  int rc = 0;
  std::vector<float> q, target;
  int n_check = 0;
  double corr = NAN;
  ract_metrics valid, test;
  if (ract_trainer_create(&t, &cfg, &ds, &err) != RACT_OK) {
    rc = fail(&err);
    ract_dataset_free(&ds);
    return rc;
  }
  prog.trainer = &t;
  t.stop = &g_stop;
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  ract_train_callbacks cb = {&prog, on_batch, on_epoch, on_stage_end};
  ract_status s = RACT_OK;
  if (init_from != nullptr) s = ract_import_checkpoint(&t, init_from, 0, nullptr, &err);
  if (resume != nullptr) {
    s = ract_import_checkpoint(&t, resume, 1, nullptr, &err);
    if (s == RACT_OK && !quiet) {
      printf("resuming %s at %s, epoch %d, batch %d\n", resume,
             t.cur.stage < RACT_STAGES ? ract_stage_name((ract_stage)t.cur.stage) : "the end",
             t.cur.epoch + 1, t.cur.batch + 1);
    }
  }
  if (s == RACT_OK) s = ract_trainer_run(&t, &cb, &err);
  if (s == RACT_OK && prog.status != RACT_OK) {
    s = prog.status;
    err = prog.err;
  }
  if (s == RACT_ERR_INTERRUPTED) {
    if (prog.tty) fputs("\r\033[K", stderr);
    const char* path = checkpoint != nullptr ? checkpoint : ckpt_default.c_str();
    fprintf(stderr, "train: %s\n", err.msg);
    ract_status cs = ract_export_checkpoint(path, &t, meta, n_meta, &err);
    if (cs == RACT_OK) {
      fprintf(stderr,
              "train: wrote checkpoint %s; to continue, run the same command with "
              "--resume=%s\n",
              path, path);
    } else {
      fprintf(stderr, "train: %s\n", err.msg);
    }
    ract_trainer_free(&t);
    ract_dataset_free(&ds);
    return 128 + (g_stop > 0 ? g_stop : SIGINT);
  }
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  if (s == RACT_OK && (t.stage[1].ran || t.stage[2].ran || init_from != nullptr) &&
      ds.valid.rows > 0) {
    q.resize(ds.valid.rows);
    target.resize(ds.valid.rows);
    s = ract_trainer_critic_check(&t, &ds.valid, q.data(), target.data(), ds.valid.rows, &n_check,
                                  &corr, &err);
    if (s == RACT_OK && !quiet) {
      printf("critic on %d validation users: corr(Q, true NDCG@%d) = %.3f\n", n_check,
             cfg.model.metrics_k, corr);
    }
  }
  if (s == RACT_OK) s = ract_trainer_evaluate(&t, &ds.valid, &valid, &err);
  if (s == RACT_OK) s = ract_trainer_evaluate(&t, &ds.test, &test, &err);
  if (s != RACT_OK) {
    rc = fail(&err);
  } else {
    printf("\nbest valid result (%d users):\n", valid.users);
    ract_metrics_print(stdout, &valid);
    printf("test result (%d users):\n", test.users);
    ract_metrics_print(stdout, &test);
    for (int k = 0; k < RACT_STAGES; k++) {
      const ract_stage_summary* st = &t.stage[k];
      if (st->ran && st->epochs > 0 && !quiet) {
        printf("%-15s %3d epochs, %.3f s/epoch, best epoch %d\n", ract_stage_name((ract_stage)k),
               st->epochs, st->seconds / st->epochs, st->best_epoch + 1);
      }
    }
    char ndcg10[32], ndcg100[32], recall10[32];
    snprintf(ndcg10, sizeof(ndcg10), "%.6f", ract_metrics_get(&test, "ndcg@10"));
    snprintf(ndcg100, sizeof(ndcg100), "%.6f", ract_metrics_get(&test, "ndcg@100"));
    snprintf(recall10, sizeof(recall10), "%.6f", ract_metrics_get(&test, "recall@10"));
    meta[n_meta++] = {"test_ndcg@10", ndcg10};
    meta[n_meta++] = {"test_ndcg@100", ndcg100};
    meta[n_meta++] = {"test_recall@10", recall10};
    s = ract_export_inference(out, &t, dtype, meta, n_meta, &err);
    if (s == RACT_OK) printf("wrote %s (%s)\n", out, ract_model_file_dtype_name(dtype));
    if (s == RACT_OK && checkpoint != nullptr) {
      s = ract_export_checkpoint(checkpoint, &t, meta, n_meta, &err);
      if (s == RACT_OK) printf("wrote %s (checkpoint)\n", checkpoint);
    }
    if (s == RACT_OK && report != nullptr) {
      ract_run_report rr = {&t, &valid, &test, corr, n_check};
      s = ract_report_write(report, &rr, &err);
      if (s == RACT_OK) printf("wrote %s\n", report);
    }
    if (s == RACT_OK && plot != nullptr) {
      s = ract_plot_write(plot, &t, q.data(), target.data(), n_check, corr, &err);
      if (s == RACT_OK) printf("wrote %s\n", plot);
    }
    if (s != RACT_OK) rc = fail(&err);
  }
  ract_trainer_free(&t);
  ract_dataset_free(&ds);
  return rc;
}
