// Data-parallel steps under mpirun (started by step_mpi_test.sh): after one step of every
// stage, for each preset, the gradients summed over the ranks (each rank stepping on its
// users u % size == rank of the batch, with the MPI communicator) equal the gradients of one
// process stepping on the whole batch (no communicator), to 1e-5 relative. Every rank
// computes the single-process reference itself (a tiny model), so every rank checks.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/core/rng.h"
#include "ract/dist/comm.h"
#include "ract/dist/comm_mpi.h"
#include "ract/model/hparams.h"
#include "ract/model/step.h"
#include "tests/model/model_test_util.h"

namespace {

ract_comm g_comm;

constexpr int kItems = 30;
constexpr int kUsers = 13;  // not a multiple of 2 or 3: the ranks hold different counts

// A CSR of binary histories (rows of users), kept with its buffers.
struct Rows {
  std::vector<int64_t> ptr = {0};
  std::vector<int32_t> idx;
  std::vector<int32_t> users;
  ract_sparse view() const {
    ract_sparse s = {(int)users.size(), kItems, ptr.data(), idx.data(), nullptr};
    return s;
  }
};

// Every user's history (the same on every rank: a fixed seed), all users or one rank's.
Rows histories(int rank, int size) {
  ract_rng r;
  ract_rng_seed(&r, 11, 0);
  Rows out;
  for (int u = 0; u < kUsers; u++) {
    std::vector<int32_t> items;
    for (int i = 0; i < kItems; i++) {
      if (ract_rng_uniform(&r) < 0.25 || i == u) items.push_back(i);
    }
    if (size > 0 && u % size != rank) continue;
    out.idx.insert(out.idx.end(), items.begin(), items.end());
    out.ptr.push_back((int64_t)out.idx.size());
    out.users.push_back(u);
  }
  return out;
}

// ||a - b|| / ||a||; 0 when both are zero.
double rel_diff(const float* a, const float* b, size_t n, double* norm_a) {
  double d = 0, s = 0;
  for (size_t i = 0; i < n; i++) {
    d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    s += (double)a[i] * a[i];
  }
  *norm_a = sqrt(s);
  return s > 0 ? sqrt(d / s) : sqrt(d);
}

}  // namespace

TEST_CASE("dist: one step's summed gradients equal one process's, every stage and preset") {
  const Rows all = histories(0, 0);
  const Rows mine = histories(g_comm.rank, g_comm.size);
  for (const char* preset : {"recbole", "paper", "ract"}) {
    for (int s = 0; s < 3; s++) {
      const ract_stage stage = (ract_stage)s;
      CAPTURE(preset);
      CAPTURE(s);
      const ract_hparams cfg = tiny_hparams(preset);
      StepModel<float> one(cfg, kItems, kUsers, (int64_t)all.idx.size());
      StepModel<float> rep(cfg, kItems, kUsers, (int64_t)all.idx.size());
      one.randomise(41, 0.6, 0.5);
      rep.randomise(41, 0.6, 0.5);
      one.anneal.steps = rep.anneal.steps = 4;  // a beta > 0
      rep.m.comm = &g_comm;
      const uint64_t seed = 77, key = 100 + s;
      const ract_batch b_one = {all.view(), {seed, key, all.users.data()}, kUsers};
      const ract_batch b_rep = {mine.view(), {seed, key, mine.users.data()}, kUsers};
      ract_step_stats st_one, st_rep;
      ract_error err = {};
      REQUIRE_MESSAGE(ract_model_step(&one.m, stage, &b_one, &st_one, &err) == RACT_OK, err.msg);
      REQUIRE_MESSAGE(ract_model_step(&rep.m, stage, &b_rep, &st_rep, &err) == RACT_OK, err.msg);
      // What the trainer does next: one allreduce per group.
      REQUIRE(ract_comm_allreduce_sum_f32(&g_comm, rep.actor.w.grads, rep.actor.w.n, &err) ==
              RACT_OK);
      REQUIRE(ract_comm_allreduce_sum_f32(&g_comm, rep.critic.w.grads, rep.critic.w.n, &err) ==
              RACT_OK);
      double na = 0, nc = 0;
      const double da = rel_diff(one.actor.w.grads, rep.actor.w.grads, one.actor.w.n, &na);
      const double dc = rel_diff(one.critic.w.grads, rep.critic.w.grads, one.critic.w.n, &nc);
      CHECK(da <= 1e-5);
      CHECK(dc <= 1e-5);
      // The trained group has a gradient at all (a vacuous match proves nothing).
      CHECK((stage == RACT_STAGE_CRITIC_PRETRAIN ? nc : na) > 0);
      CHECK(st_rep.loss == doctest::Approx(st_one.loss).epsilon(1e-5));
      for (int f = 0; f < 3; f++) {  // the BatchNorm running statistics moved alike
        CHECK(rep.critic.bn_mean[f] == doctest::Approx(one.critic.bn_mean[f]).epsilon(1e-5));
        CHECK(rep.critic.bn_var[f] == doctest::Approx(one.critic.bn_var[f]).epsilon(1e-5));
      }
      if (g_comm.rank == 0) {
        printf("%-8s stage %d: |g actor| %.4g rel diff %.2g; |g critic| %.4g rel diff %.2g\n",
               preset, s, na, da, nc, dc);
      }
    }
  }
}

int main(int argc, char** argv) {
  ract_error err;
  if (ract_comm_init_mpi(&argc, &argv, 60, &g_comm, &err) != RACT_OK) {
    fprintf(stderr, "step_mpi_test: %s\n", err.msg);
    return 1;
  }
  doctest::Context context(argc, argv);
  context.setOption("no-colors", true);
  int failed = context.run() != 0;
  // Every rank leaves with the same verdict, so that the job's exit status is the suite's.
  if (ract_comm_agree(&g_comm, &failed, RACT_COMM_MAX, &err) != RACT_OK) {
    ract_comm_abort(&g_comm, 1, err.msg);
  }
  if (ract_comm_finalize(&g_comm, &err) != RACT_OK) {
    fprintf(stderr, "step_mpi_test: %s\n", err.msg);
    return 1;
  }
  return failed;
}
