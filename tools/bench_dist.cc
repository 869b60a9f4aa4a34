// `bench_dist`: data-parallel training speed under mpirun, and a scaling model built on it.
//
//   bazel build -c opt //tools:bench_dist
//   mpirun -np 2 bazel-bin/tools/bench_dist --synthetic=136677,20108,73 --epochs=2
//   mpirun -np 2 bazel-bin/tools/bench_dist --train=... --valid=... --test=...
//
// Every rank trains its share of each batch (tools/train_mpi's path) for --epochs epochs
// per stage without validation, through a communicator that times every collective and
// counts its bytes. Rank 0 prints, per stage: seconds per epoch (the first epoch is a
// warm-up when there are two or more), the seconds spent in collectives (waiting for the
// slowest rank included) and their share, the bytes each rank hands to allreduce per step
// and per epoch (one rank sends nothing: its MB/step are then the trained gradients'); every rank's
// peak RSS (VmHWM, data and model) and RSS after training. With
// --synthetic each rank generates only its own part of the data.
//
// Then the scaling model: for N machines on a network of G Gbit/s,
//   epoch(N) = compute per user * users / N + steps * 2 (N - 1) / N * bytes per step / G,
// the ring allreduce's cost, with the compute per user measured here (epoch time minus the
// time in collectives, times the ranks, over the users). A second column sends the first
// layer's gradient as its touched rows only (the items of the batch: the input is sparse),
// with the other layers dense; the decoder's output layer stays dense in both (softmax over
// every item). Latency per message is left out, which flatters small messages.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ract/core/clock.h"
#include "ract/core/rng.h"
#include "ract/data/dataset.h"
#include "ract/dist/comm.h"
#include "ract/dist/comm_mpi.h"
#include "ract/math/gemm.h"
#include "ract/train/trainer.h"
#include "tools/data_flags.h"
#include "tools/flags.h"
#include "tools/rss.h"
#include "tools/synthetic.h"

namespace {

const char* kUsage =
    "usage: mpirun -np N bench_dist [flags]\n"
    "Seconds per epoch of each training stage on N ranks, the time and bytes of the\n"
    "allreduces, each rank's memory, and a scaling model for 1..64 machines.\n\n"
    "  --threads=N                 BLIS threads per rank (default 1)\n"
    "  --preset=recbole|paper|ract model and batch defaults (default recbole)\n"
    "  --epochs=N                  epochs per stage (default 2; the first is a warm-up)\n"
    "  --stages=LIST               stages to time (default actor_pretrain,critic_pretrain,"
    "finetune)\n"
    "  --synthetic=U,I,P           synthetic data: U users, I items, P items per user (each\n"
    "                              rank generates only its part)\n"
    "  --KEY=VALUE                 any training key of tools/train (--train_batch_size=N, ...)\n\n";

// ---- A communicator that times and counts what goes through it (wraps the real one).
struct Timed {
  ract_comm c;  // first: what the trainer is handed
  ract_comm* inner;
  double seconds;      // in collectives
  double bytes_f32;    // allreduced float bytes (this rank's buffer)
  double bytes_other;  // every other collective's bytes
};

Timed* timed(ract_comm* c) { return (Timed*)c; }

ract_status t_allreduce_f32(ract_comm* c, float* buf, size_t n, ract_error* err) {
  const double t0 = ract_clock_seconds();
  ract_status s = ract_comm_allreduce_sum_f32(timed(c)->inner, buf, n, err);
  timed(c)->seconds += ract_clock_seconds() - t0;
  timed(c)->bytes_f32 += 4.0 * n;
  return s;
}
ract_status t_allreduce_f64(ract_comm* c, double* buf, size_t n, ract_error* err) {
  const double t0 = ract_clock_seconds();
  ract_status s = ract_comm_allreduce_sum_f64(timed(c)->inner, buf, n, err);
  timed(c)->seconds += ract_clock_seconds() - t0;
  timed(c)->bytes_other += 8.0 * n;
  return s;
}
ract_status t_bcast(ract_comm* c, void* buf, size_t bytes, int root, ract_error* err) {
  const double t0 = ract_clock_seconds();
  ract_status s = ract_comm_bcast(timed(c)->inner, buf, bytes, root, err);
  timed(c)->seconds += ract_clock_seconds() - t0;
  timed(c)->bytes_other += (double)bytes;
  return s;
}
ract_status t_barrier(ract_comm* c, ract_error* err) {
  const double t0 = ract_clock_seconds();
  ract_status s = ract_comm_barrier(timed(c)->inner, err);
  timed(c)->seconds += ract_clock_seconds() - t0;
  return s;
}
ract_status t_agree(ract_comm* c, int* value, ract_comm_agree_op op, ract_error* err) {
  const double t0 = ract_clock_seconds();
  ract_status s = ract_comm_agree(timed(c)->inner, value, op, err);
  timed(c)->seconds += ract_clock_seconds() - t0;
  timed(c)->bytes_other += sizeof(int);
  return s;
}
ract_status t_finalize(ract_comm* c, ract_error* err) {
  return ract_comm_finalize(timed(c)->inner, err);
}
void t_abort(ract_comm* c, int code, const char* why) {
  ract_comm_abort(timed(c)->inner, code, why);
}

const ract_comm_impl kTimedImpl = {"timed",   t_allreduce_f32, t_allreduce_f64, t_bcast,
                                   t_barrier, t_agree,         t_finalize,      t_abort};

void timed_init(Timed* t, ract_comm* inner) {
  memset(t, 0, sizeof(*t));
  t->c = *inner;
  t->c.impl = &kTimedImpl;
  t->inner = inner;
}

// ---- Per-epoch records.
struct Epoch {
  int stage;
  int batches;
  double seconds, comm_s, bytes_f32;
};
struct Recorder {
  Timed* comm;
  double comm_s0, bytes0;
  std::vector<Epoch> epochs;
};

void on_epoch(void* ctx, const ract_epoch_log* lg, const ract_metrics*) {
  Recorder* r = (Recorder*)ctx;
  Epoch e = {lg->stage, lg->batches, lg->seconds_train, r->comm->seconds - r->comm_s0,
             r->comm->bytes_f32 - r->bytes0};
  r->epochs.push_back(e);
  r->comm_s0 = r->comm->seconds;
  r->bytes0 = r->comm->bytes_f32;
}

// Mean distinct items of a global batch of B training users (a few random batches, the same
// on every rank; each rank marks its users' items, the marks are summed).
ract_status touched_items(ract_comm* comm, const ract_dataset* ds, int B, double* out,
                          ract_error* err) {
  const ract_csr* m = &ds->train;
  std::vector<float> mark((size_t)ds->n_items);
  ract_rng rng;
  ract_rng_seed(&rng, 5, 7);
  const int samples = 8;
  double sum = 0;
  for (int k = 0; k < samples; k++) {
    std::fill(mark.begin(), mark.end(), 0.0f);
    for (int b = 0; b < B; b++) {
      const int u = (int)(ract_rng_uniform_double(&rng) * m->rows) % m->rows;
      for (int64_t j = m->ptr[u]; j < m->ptr[u + 1]; j++) mark[m->idx[j]] = 1;
    }
    RACT_CHECK(ract_comm_allreduce_sum_f32(comm, mark.data(), mark.size(), err));
    for (float v : mark) sum += v > 0;
  }
  *out = sum / samples;
  return RACT_OK;
}

int fail(ract_comm* comm, const ract_error* e) {
  fprintf(stderr, "bench_dist (rank %d): %s\n", comm->rank, e->msg);
  ract_comm_abort(comm, 1, "bench_dist: a rank failed (its message is above)");
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  ract_comm mpi;
  ract_error err = {};
  if (ract_comm_init_mpi(&argc, &argv, 0, &mpi, &err) != RACT_OK) {
    fprintf(stderr, "bench_dist: %s\n", err.msg);
    return 1;
  }
  const int lead = mpi.rank == 0;
  if (!lead && freopen("/dev/null", "w", stdout) == nullptr) return fail(&mpi, &err);
  ract_flag_chdir_to_invocation();
  const char* preset = "recbole";
  for (int i = 1; i < argc; i++) {
    if (const char* v = ract_flag_value(argv[i], "preset")) preset = v;
  }
  ract_train_config cfg;
  if (ract_train_config_preset(&cfg, preset, &err) != RACT_OK) return fail(&mpi, &err);
  ract_data_flags flags;
  ract_data_flags_init(&flags);
  int epochs = 2, threads = 1;
  int syn[3] = {0, 0, 0}, n_syn = 0;
  int run[RACT_STAGES] = {1, 1, 1};
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v;
    int r = ract_data_flags_parse(&flags, a, &err);
    if (r < 0) return fail(&mpi, &err);
    if (r > 0) continue;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      printf("%s%s", kUsage, ract_data_flags_usage());
      fflush(stdout);
      ract_comm_finalize(&mpi, &err);
      return 0;
    } else if (ract_flag_value(a, "preset")) {
    } else if ((v = ract_flag_value(a, "threads")) && ract_flag_int(v, 1, 256, &threads)) {
    } else if ((v = ract_flag_value(a, "epochs")) && ract_flag_int(v, 1, 10000, &epochs)) {
    } else if ((v = ract_flag_value(a, "synthetic")) && ract_flag_list(v, syn, 3, &n_syn) &&
               n_syn == 3 && syn[0] >= 2 && syn[1] >= 2 && syn[2] >= 1) {
    } else if ((v = ract_flag_value(a, "stages"))) {
      for (int s = 0; s < RACT_STAGES; s++) run[s] = strstr(v, ract_stage_name((ract_stage)s)) != 0;
    } else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') != nullptr &&
               !ract_flag_value(a, "threads") && !ract_flag_value(a, "epochs") &&
               !ract_flag_value(a, "synthetic")) {
      std::string key(a + 2, strchr(a, '=') - (a + 2));
      if (ract_train_config_set(&cfg, key.c_str(), strchr(a, '=') + 1, &err) != RACT_OK) {
        return fail(&mpi, &err);
      }
    } else {
      ract_fail(&err, RACT_ERR_ARG, "bad or unknown flag %s (see --help)", a);
      return fail(&mpi, &err);
    }
  }
  cfg.threads = threads;
  ract_gemm_set_threads(threads);
  Timed comm;
  timed_init(&comm, &mpi);

  // The data: each rank's part only.
  ract_dataset ds;
  memset(&ds, 0, sizeof(ds));
  const double t_load = ract_clock_seconds();
  ract_status s;
  if (n_syn == 3) {
    s = ract_synthetic_dataset(&ds, syn[0], syn[1], syn[2], flags.opt.seed, &mpi, &err);
  } else {
    s = ract_data_flags_finish(&flags, argv[0], &err);
    if (s == RACT_OK) s = ract_dataset_load(&ds, &flags.opt, &err);
    if (s == RACT_OK) s = ract_trainer_keep_own_rows(&ds, &mpi, &err);
  }
  if (s != RACT_OK) return fail(&mpi, &err);
  const double load_s = ract_clock_seconds() - t_load;
  const double rss_data_mb = ract_rss_peak_mb();
  printf("dataset %s: %d users, %d items, %lld train pairs (rank 0 loaded its part in %.2f s)\n",
         ds.name, ds.n_users, ds.n_items, (long long)ract_dataset_train_nnz(&ds), load_s);
  printf("%d rank(s) x %d BLIS thread(s) (%s), preset %s\n", mpi.size, threads, ract_gemm_kernel(),
         preset);
  fflush(stdout);

  ract_train_config_timed(&cfg, epochs, run);
  cfg.seed = flags.opt.seed;
  ract_trainer t;
  if (ract_trainer_create(&t, &cfg, &ds, nullptr, 0, &err) != RACT_OK) return fail(&mpi, &err);
  t.comm = &comm.c;
  Recorder rec = {&comm, 0, 0, {}};
  ract_train_callbacks cb = {&rec, nullptr, on_epoch, nullptr};
  if (ract_trainer_run(&t, &cb, &err) != RACT_OK) return fail(&mpi, &err);
  double touched = 0;
  const int B = std::min(cfg.train_batch_size, ds.train.rows);
  if (touched_items(&mpi, &ds, B, &touched, &err) != RACT_OK) return fail(&mpi, &err);

  // Every rank's memory and time in collectives, on rank 0.
  const int N = mpi.size;
  std::vector<double> mem((size_t)3 * N, 0.0);
  mem[(size_t)mpi.rank] = rss_data_mb;
  mem[(size_t)N + mpi.rank] = ract_rss_peak_mb();
  mem[(size_t)2 * N + mpi.rank] = ract_rss_now_mb();
  if (ract_comm_allreduce_sum_f64(&mpi, mem.data(), mem.size(), &err) != RACT_OK) {
    return fail(&mpi, &err);
  }
  std::vector<double> comm_s(rec.epochs.size(), 0.0);
  for (size_t e = 0; e < rec.epochs.size(); e++) comm_s[e] = rec.epochs[e].comm_s / N;
  if (!comm_s.empty() &&
      ract_comm_allreduce_sum_f64(&mpi, comm_s.data(), comm_s.size(), &err) != RACT_OK) {
    return fail(&mpi, &err);
  }

  printf("\nmemory per rank (MB): peak after the data, peak, RSS after training\n");
  for (int r = 0; r < N; r++) {
    printf("  rank %d: %8.1f %8.1f %8.1f\n", r, mem[r], mem[N + r], mem[2 * N + r]);
  }
  const int U = ds.train.rows, I = ds.n_items, H1 = cfg.model.mlp_hidden_size[0];
  const double first_layer_bytes = 4.0 * I * H1;
  printf(
      "\nstage            s/epoch  in allreduce (share)  steps  MB/step  MB/epoch"
      "  compute us/user\n");
  struct Model {
    int stage, steps;
    double c_user, bytes_step, sparse_step;
  };
  std::vector<Model> models;
  for (int st = 0; st < RACT_STAGES; st++) {
    double sec = 0, cs = 0, bytes = 0;
    int n = 0, steps = 0;
    int first = -1;
    for (size_t e = 0; e < rec.epochs.size(); e++) {
      if (rec.epochs[e].stage != st) continue;
      if (first < 0) {
        first = (int)e;
        if (epochs > 1) continue;  // warm-up
      }
      sec += rec.epochs[e].seconds;
      cs += comm_s[e];
      bytes += rec.epochs[e].bytes_f32;
      steps = rec.epochs[e].batches;
      n++;
    }
    if (n == 0) continue;
    sec /= n, cs /= n, bytes /= n;
    const int actor = st != RACT_STAGE_CRITIC_PRETRAIN;
    double bstep = steps > 0 ? bytes / steps : 0;
    if (N == 1) {  // nothing was sent: what N ranks would send, the trained groups' gradients
      const int critic = st == RACT_STAGE_CRITIC_PRETRAIN ||
                         (st == RACT_STAGE_FINETUNE && cfg.model.finetune_critic);
      bstep = 4.0 * ((actor ? t.actor.w.n : 0) + (critic ? t.critic.w.n : 0));
    }
    const double c_user = (sec - cs) * N / U;
    // The first layer's rows of the batch's items (and their indices) instead of all rows,
    // where the stage sends the actor's gradient.
    const double sparse = actor ? bstep - first_layer_bytes + touched * (4.0 * H1 + 4) : bstep;
    models.push_back({st, steps, c_user, bstep, sparse});
    printf("%-15s %8.3f  %8.3f s (%4.1f%%)  %5d  %7.2f  %8.1f  %10.2f\n",
           ract_stage_name((ract_stage)st), sec, cs, sec > 0 ? 100 * cs / sec : 0.0, steps,
           bstep / 1e6, bytes / 1e6, 1e6 * c_user);
  }
  printf(
      "\nfirst layer %d x %d floats = %.1f MB of the actor's gradient; a batch of %d users "
      "touches %.0f of its %d rows (%.1f%%)\n",
      I, H1, first_layer_bytes / 1e6, B, touched, I, 100.0 * touched / I);

  // The model: seconds per epoch for N machines on G Gbit/s, dense and touched-rows-only.
  const double gbits[3] = {10, 25, 100};
  const int ns[7] = {1, 2, 4, 8, 16, 32, 64};
  for (const Model& m : models) {
    printf(
        "\nscaling model, %s (%d users, %d steps/epoch, %.2f MB/step dense, %.2f MB/step "
        "touched rows):\n",
        ract_stage_name((ract_stage)m.stage), U, m.steps, m.bytes_step / 1e6, m.sparse_step / 1e6);
    printf("   N   dense 10G   25G  100G   touched 10G   25G  100G   (s/epoch)\n");
    double best[2][3];
    int best_n[2][3], half_n[2][3];  // fastest N; largest N still at >= 50% efficiency
    for (int a = 0; a < 2; a++) {
      for (int g = 0; g < 3; g++) best[a][g] = INFINITY, best_n[a][g] = 1, half_n[a][g] = 1;
    }
    const double one = m.c_user * U;  // one machine: no allreduce
    for (int k = 0; k < 7; k++) {
      const int n = ns[k];
      printf("%4d  ", n);
      for (int a = 0; a < 2; a++) {
        printf(a == 0 ? "  " : "       ");
        for (int g = 0; g < 3; g++) {
          const double bw = gbits[g] * 1e9 / 8;
          const double b = a == 0 ? m.bytes_step : m.sparse_step;
          const double e = m.c_user * U / n + m.steps * 2.0 * (n - 1) / n * b / bw;
          printf("%7.2f", e);
          if (e < best[a][g]) best[a][g] = e, best_n[a][g] = n;
          if (one / (n * e) >= 0.5) half_n[a][g] = n;
        }
      }
      printf("\n");
    }
    printf(
        "  fastest: dense at N = %d / %d / %d, touched rows at N = %d / %d / %d "
        "(10 / 25 / 100 Gbit/s)\n",
        best_n[0][0], best_n[0][1], best_n[0][2], best_n[1][0], best_n[1][1], best_n[1][2]);
    printf("  efficiency >= 50%% up to: dense N = %d / %d / %d, touched rows N = %d / %d / %d\n",
           half_n[0][0], half_n[0][1], half_n[0][2], half_n[1][0], half_n[1][1], half_n[1][2]);
  }
  printf(
      "\nEach step's allreduce does not shrink with N (every rank sends the whole "
      "gradient) while the compute does: past the N where they meet, more machines add "
      "time.\n");
  fflush(stdout);
  ract_trainer_free(&t);
  ract_dataset_free(&ds);
  if (ract_comm_finalize(&mpi, &err) != RACT_OK) {
    fprintf(stderr, "bench_dist: %s\n", err.msg);
    return 1;
  }
  return 0;
}
