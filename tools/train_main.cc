// The main of `train` and `train_mpi` (train_main.h): RaCT's three stages on a dataset, then
// the test table, the weight file, and optionally a JSON report and an SVG plot of the run.
//
//   bazel run -c opt //tools:train                      # the shipped MovieLens latest-small
//   bazel run -c opt //tools:train -- --preset=recbole
//       --train=.../train.tsv --valid=.../valid.tsv --test=.../test.tsv --out=model.ract
//
// Hyper-parameter flags carry RecBole's config keys (`--mlp_hidden_size=[600]`,
// `--learning_rate=1e-3`, ...); `--preset` (ract | paper | recbole) sets every default first.
#include "tools/train_main.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "ract/core/clock.h"
#include "ract/data/dataset.h"
#include "ract/deploy/model_file.h"
#include "ract/deploy/model_file_write.h"
#include "ract/eval/metrics.h"
#include "ract/math/gemm.h"
#include "ract/train/export.h"
#include "ract/train/trainer.h"
#include "tools/data_flags.h"
#include "tools/flags.h"
#include "tools/report.h"
#include "tools/train_flags.h"

namespace {

// The critic's check after training: every training user under this many dropout draws,
// plus every validation user once; at most this many points in the plot.
constexpr int kCriticDraws = 5;
constexpr int kPlotPoints = 20000;

// One line: what the finetune gained over the pretrained actor on the validation metric, and
// how well the critic predicts its target.
void print_verdict(const ract_trainer* t, const ract_critic_fit* fit) {
  const ract_train_config* c = &t->cfg;
  const ract_stage_summary* a = &t->stage[RACT_STAGE_ACTOR_PRETRAIN];
  const ract_stage_summary* f = &t->stage[RACT_STAGE_FINETUNE];
  if (!a->ran || !f->ran || a->best_valid.users == 0 || f->best_valid.users == 0) return;
  const double va = ract_metrics_get(&a->best_valid, c->valid_metric);
  const double vf = ract_metrics_get(&f->best_valid, c->valid_metric);
  printf(
      "verdict: finetune %+.4f valid %s over the actor (%.4f -> %.4f); critic corr(Q, "
      "NDCG@%d) %.3f on %lld pairs\n",
      vf - va, c->valid_metric, va, vf, c->model.metrics_k, fit->corr, (long long)fit->pairs);
}

const char* kUsage =
    "usage: %s [flags]\n"
    "Trains RaCT (actor_pretrain -> critic_pretrain -> finetune) and writes the model.\n%s\n"
    "Run:\n"
    "  --preset=ract|paper|recbole  every default below (default ract)\n"
    "  --train_stage=all|actor_pretrain|critic_pretrain|finetune   (default all)\n"
    "  --init_from=CKPT             weights from a checkpoint (to run a single later stage)\n"
    "  --resume=CKPT                continue an interrupted run exactly: give the same\n"
    "                               flags (any but --threads, --out, --report, --plot,\n"
    "                               --checkpoint*, --quiet that differs is refused)\n"
    "  --out=FILE                   the inference weight file (default model.ract; format and\n"
    "                               metadata keys: ract/deploy/FORMAT.md)\n"
    "  --dtype=fp32|fp16|int8       its weight type (default fp32)\n"
    "  --checkpoint=FILE            write a checkpoint at the end of every stage (and on\n"
    "                               SIGINT/SIGTERM; default there: OUT.ckpt)\n"
    "  --checkpoint_every=N         ... and every N epochs\n"
    "  --report=FILE.json           the run's report\n"
    "  --plot=FILE.svg              training curves and the critic's predictions\n"
    "  --threads=N                  BLIS threads (default 1)\n"
    "  --quiet                      only the final tables\n"
    "  --stop_after_batches=N       testing aid: after N batches, stop as SIGINT would (a\n"
    "                               checkpoint, exit 130)\n"
    "Model (RecBole's keys):\n"
    "  --mlp_hidden_size=[600] --latent_dimension=N --dropout_prob=0.5\n"
    "  --anneal_cap=0.2 --total_anneal_steps=200000 --critic_layers=[100,100,10]\n"
    "  --metrics_k=100\n"
    "Model variants (a preset sets them all; ract/model/README.md, \"Presets\", explains\n"
    "each and lists the presets' values):\n"
    "  --head=split|two --dropout_style=keep|inverted --eps_std=X\n"
    "  --critic_loss_with_kl=0|1 --bn_mode=batch|running --ndcg_gain=sqrt|one\n"
    "  --init=xavier_normal|xavier_uniform --anneal_rule=per_loss|per_batch --critic_l2=X\n"
    "  --bn_eps=X --bn_momentum=X --finetune_critic=0|1\n"
    "  --critic_loss_feature=ce|heldout_ce --finetune_objective=critic|likelihood|feature\n"
    "  --critic_weight_norm=0|1 --critic_weight_mix=X --critic_bn_refresh=0|1\n"
    "Schedule:\n"
    "  --pretrain_epochs=N (actor) --critic_epochs=N --epochs=N (finetune)\n"
    "  --learning_rate=X (actor) --critic_learning_rate=X --finetune_learning_rate=X\n"
    "  --train_batch_size=N --total_anneal_epochs=N (0: --total_anneal_steps as given)\n"
    "  --stopping_step=N (finetune) --valid_metric=ndcg@100\n"
    "  --topk=10,100 (metric cut-offs) --eval_batch=N\n\n";

const char* kMpiUsage =
    "Run under mpirun (mpirun -np N train_mpi ...): every rank reads the data, keeps the\n"
    "rows of its users (u % N == rank) and trains its share of each batch; the gradients\n"
    "are summed before every step, so N ranks train the model one process would. Rank 0\n"
    "prints and writes the files; a checkpoint resumes only with the same N.\n";

const char* g_name = "train";  // the tool's name in messages
int g_rank = 0;                // this process's rank (messages of other ranks say which)
int g_lead = 1;                // rank 0: prints the tables and writes the files

int fail(const ract_error* e) {
  if (g_lead) {
    fprintf(stderr, "%s: %s\n", g_name, e->msg);
  } else {
    fprintf(stderr, "%s (rank %d): %s\n", g_name, g_rank, e->msg);
  }
  return e->status == RACT_ERR_ARG ? 2 : 1;
}

volatile int g_stop = 0;  // set by SIGINT/SIGTERM: stop after the current batch

void on_signal(int sig) { g_stop = sig; }

// Installed explicitly (sigaction), so that a run started with SIGINT ignored — a background
// job of a non-interactive shell — still stops cleanly; SA_RESETHAND: a second signal ends
// the process at once.
void install_stop_handlers() {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
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
  int stop_after;   // --stop_after_batches (0: never)
  int64_t batches;  // batches run by this process
};

void write_checkpoint(Progress* p, const char* why) {
  if (p->status != RACT_OK || !g_lead) return;
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
  // The testing aid takes the path a real SIGINT takes: the handler sets g_stop, and the
  // trainer stops before the next batch.
  if (p->stop_after > 0 && ++p->batches == p->stop_after) raise(SIGINT);
  if (!p->tty || p->quiet) return;
  double t = ract_clock_seconds();
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

int ract_train_main(int argc, char** argv, const char* name, ract_comm* comm) {
  g_name = name;
  g_rank = comm != nullptr ? comm->rank : 0;
  g_lead = g_rank == 0;
  ract_flag_chdir_to_invocation();
  ract_error err = {};
  static ract_train_flags f;  // large (the data flags' paths): not on the stack
  if (ract_train_flags_parse(&f, argc, argv, &err) != RACT_OK) return fail(&err);
  if (f.help) {
    if (g_lead) {
      printf(kUsage, name, comm != nullptr ? kMpiUsage : "");
      printf("%s", ract_data_flags_usage());
    }
    return 0;
  }
  // Every rank trains; only rank 0 prints and writes (the others run as --quiet and their
  // tables go nowhere).
  if (!g_lead) {
    f.quiet = 1;
    if (freopen("/dev/null", "w", stdout) == nullptr) {
      fprintf(stderr, "%s (rank %d): cannot silence stdout\n", name, g_rank);
    }
  }
  // Before anything slow (loading the data): from here on SIGINT/SIGTERM stop cleanly.
  install_stop_handlers();
  if (!f.quiet) {
    printf("SIGINT or SIGTERM: stop after the current batch and write a checkpoint\n");
    fflush(stdout);
  }
  ract_data_flags& flags = f.data;
  ract_train_config cfg = f.cfg;
  const char* out = f.out;
  const char* report = f.report;
  const char* plot = f.plot;
  const char* checkpoint = f.checkpoint;
  const char* init_from = f.init_from;
  const char* resume = f.resume;
  const ract_file_dtype dtype = f.dtype;
  const int quiet = f.quiet;
  if (ract_data_flags_finish(&flags, argv[0], &err) != RACT_OK) return fail(&err);

  ract_train_state state;
  if (resume != nullptr) {
    // "The same command" (README): a checkpoint of another run is refused, not continued
    // under the checkpoint's configuration whatever the flags say.
    if (ract_export_read_state(resume, &state, &err) != RACT_OK) return fail(&err);
    if (ract_train_config_same_run(&state.cfg, &cfg, &err) != RACT_OK) {
      fprintf(stderr, "%s: --resume=%s: %s; resume with the interrupted run's flags\n", name,
              resume, err.msg);
      return 2;
    }
  }
  ract_gemm_set_threads(cfg.threads);
  double t0 = ract_clock_seconds();
  ract_dataset ds;
  if (ract_dataset_load(&ds, &flags.opt, &err) != RACT_OK) return fail(&err);
  if (!quiet) {
    ract_dataset_print_counts(stdout, &ds);
    printf("loaded in %.2f s; preset %s, BLIS %s, %d thread(s)\n", ract_clock_seconds() - t0,
           cfg.preset, ract_gemm_kernel(), cfg.threads);
    char line[1024];
    ract_hparams_format(&cfg.model, line, sizeof(line));
    printf("model: %s\n", line);
  }

  // Provenance for the files written: the RACT_META_* keys of ract/deploy/model_file.h.
  char date[32], users[32], items[32], inters[32], train_inters[32];
  // SOURCE_DATE_EPOCH (the reproducible-builds convention) fixes the date, so that the
  // same seed and data give a byte-identical file.
  const char* epoch = getenv("SOURCE_DATE_EPOCH");
  time_t now_t = epoch != nullptr ? (time_t)strtoll(epoch, nullptr, 10) : time(nullptr);
  strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now_t));
  snprintf(users, sizeof(users), "%d", ds.n_users);
  snprintf(items, sizeof(items), "%d", ds.n_items);
  snprintf(inters, sizeof(inters), "%lld", (long long)ract_dataset_interactions(&ds));
  snprintf(train_inters, sizeof(train_inters), "%lld", (long long)ds.train.nnz);
  // The base keys, then (for the final files) one "test.<metric>@K" per metric and cut-off.
  static const char* const kTestMetrics[] = {"recall", "mrr",       "ndcg",
                                             "hit",    "precision", "recall_paper"};
  const int n_test_metrics = (int)(sizeof(kTestMetrics) / sizeof(kTestMetrics[0]));
  ract_file_kv meta[7 + 6 * RACT_METRICS_MAX_K] = {
      {RACT_META_DATASET, ds.name},
      {RACT_META_PRESET, cfg.preset},
      {RACT_META_DATE, date},
      {RACT_META_N_USERS, users},
      {RACT_META_N_ITEMS, items},
      {RACT_META_N_INTERACTIONS, inters},
      {RACT_META_N_TRAIN_INTERACTIONS, train_inters},
  };
  int n_meta = 7;
  char test_kv[6 * RACT_METRICS_MAX_K][2][48];

  std::string ckpt_default = std::string(out) + ".ckpt";
  Progress prog = {g_lead && isatty(2),
                   quiet,
                   0,
                   nullptr,
                   checkpoint,
                   f.checkpoint_every,
                   0,
                   meta,
                   n_meta,
                   RACT_OK,
                   {},
                   f.stop_after_batches,
                   0};
  ract_trainer t;
  int rc = 0;
  std::vector<float> q, target;
  ract_critic_fit fit;
  memset(&fit, 0, sizeof(fit));
  fit.corr = NAN;
  ract_metrics valid, test;
  size_t need = 0;
  // Each rank keeps only the rows it reads (the whole data's counts are in meta already).
  if (ract_trainer_keep_own_rows(&ds, comm, &err) != RACT_OK ||
      ract_trainer_bytes(&cfg, &ds, &need, &err) != RACT_OK ||
      ract_flag_check_memory(need, "the model", &err) != RACT_OK ||
      ract_trainer_create(&t, &cfg, &ds, nullptr, 0, &err) != RACT_OK) {
    rc = fail(&err);
    ract_dataset_free(&ds);
    return rc;
  }
  prog.trainer = &t;
  t.comm = comm;
  t.stop = &g_stop;
  ract_train_callbacks cb = {&prog, on_batch, on_epoch, on_stage_end};
  ract_status s = RACT_OK;
  if (init_from != nullptr) s = ract_export_restore(&t, init_from, 0, nullptr, &err);
  if (resume != nullptr) {
    s = ract_export_restore(&t, resume, 1, nullptr, &err);
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
    // Every rank stopped at the same batch (the trainer agrees on the flag); their states
    // are the same, so rank 0's checkpoint is the run's.
    rc = 128 + (t.stopped > 0 ? t.stopped : SIGINT);  // the signal, whichever rank got it
    if (g_lead) {
      if (prog.tty) fputs("\r\033[K", stderr);
      const char* path = checkpoint != nullptr ? checkpoint : ckpt_default.c_str();
      fprintf(stderr, "%s: %s\n", name, err.msg);
      if (ract_export_checkpoint(path, &t, meta, n_meta, &err) == RACT_OK) {
        fprintf(stderr,
                "%s: wrote checkpoint %s; to continue, run the same command with "
                "--resume=%s\n",
                name, path, path);
      } else {
        rc = fail(&err);
      }
    }
    ract_trainer_free(&t);
    ract_dataset_free(&ds);
    return rc;
  }
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  if (s == RACT_OK && (t.stage[1].ran || t.stage[2].ran || init_from != nullptr) &&
      ds.valid.rows > 0) {
    q.resize(kPlotPoints);
    target.resize(kPlotPoints);
    s = ract_trainer_critic_check(&t, kCriticDraws, q.data(), target.data(), kPlotPoints, &fit,
                                  &err);
    if (s == RACT_OK && !quiet) {
      printf(
          "critic: corr(Q, true NDCG@%d) = %.3f over %lld (user, draw) pairs (%d draws of "
          "each training user, each validation user once)\n",
          cfg.model.metrics_k, fit.corr, (long long)fit.pairs, kCriticDraws);
    }
  }
  if (s == RACT_OK) s = ract_trainer_evaluate(&t, &ds.valid, &valid, &err);
  if (s == RACT_OK) s = ract_trainer_evaluate(&t, &ds.test, &test, &err);
  if (s != RACT_OK) {
    rc = fail(&err);
  } else if (g_lead) {
    printf("\nbest valid result (%d users):\n", valid.users);
    ract_metrics_print(stdout, &valid);
    printf("test result (%d users):\n", test.users);
    ract_metrics_print(stdout, &test);
    for (int k = 0; k < RACT_STAGES; k++) {
      const ract_stage_summary* st = &t.stage[k];
      if (st->ran && st->epochs > 0 && !quiet) {
        printf("%-15s %3d epochs, %.3f s/epoch, ", ract_stage_name((ract_stage)k), st->epochs,
               st->seconds / st->epochs);
        if (st->best_epoch >= 0) {
          printf("best epoch %d\n", st->best_epoch + 1);
        } else {
          printf("kept its last weights (not validated)\n");
        }
      }
    }
    int n_kv = 0;
    for (int m = 0; m < n_test_metrics; m++) {
      for (int j = 0; j < test.n_k; j++) {
        char* key = test_kv[n_kv][0];
        char* value = test_kv[n_kv][1];
        snprintf(key, sizeof(test_kv[0][0]), "%s%s@%d", RACT_META_TEST_PREFIX, kTestMetrics[m],
                 test.k[j]);
        snprintf(value, sizeof(test_kv[0][1]), "%.6f",
                 ract_metrics_get(&test, key + strlen(RACT_META_TEST_PREFIX)));
        meta[n_meta++] = {key, value};
        n_kv++;
      }
    }
    size_t scratch_bytes = 0;
    void* scratch = ract_trainer_scratch(&t, &scratch_bytes);
    s = ract_export_inference(out, &t, dtype, meta, n_meta, scratch, scratch_bytes, &err);
    if (s == RACT_OK) printf("wrote %s (%s)\n", out, ract_file_dtype_name(dtype));
    if (s == RACT_OK && checkpoint != nullptr) {
      s = ract_export_checkpoint(checkpoint, &t, meta, n_meta, &err);
      if (s == RACT_OK) printf("wrote %s (checkpoint)\n", checkpoint);
    }
    if (s == RACT_OK && report != nullptr) {
      ract_run_report rr = {&t, &valid, &test, &fit};
      s = ract_report_write(report, &rr, &err);
      if (s == RACT_OK) printf("wrote %s\n", report);
    }
    if (s == RACT_OK && plot != nullptr) {
      s = ract_plot_write(plot, &t, q.data(), target.data(), fit.returned, fit.corr, &err);
      if (s == RACT_OK) printf("wrote %s\n", plot);
    }
    if (s == RACT_OK) print_verdict(&t, &fit);
    if (s != RACT_OK) rc = fail(&err);
  }
  ract_trainer_free(&t);
  ract_dataset_free(&ds);
  return rc;
}
