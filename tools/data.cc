// `data`: loads any supported interaction file or split through the shared data flags,
// prints its counts, and evaluates the popularity baseline (score = train count) on the
// validation and test sets: the floor every trained model must beat.
//
//   bazel run //tools:data -- --train=.../train.tsv --valid=.../valid.tsv --test=.../test.tsv
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ract/core/arena.h"
#include "ract/data/dataset.h"
#include "ract/eval/evaluator.h"
#include "ract/eval/metrics.h"
#include "ract/eval/popularity.h"
#include "tools/data_flags.h"

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void usage(FILE* f) {
  fprintf(f,
          "usage: data [flags]\n"
          "Prints the counts of a dataset and the popularity baseline's metrics.\n\n"
          "  --topk=10,100   metric cut-offs\n"
          "  --batch=256     users per scoring batch\n"
          "  --json          also print the metrics as JSON lines\n"
          "  --help\n\n%s",
          ract_data_flags_usage());
}

static int die(const char* what, const ract_error* e) {
  fprintf(stderr, "data: %s%s%s\n", what, *what ? ": " : "", e->msg);
  return e->status == RACT_ERR_ARG ? 2 : 1;
}

int main(int argc, char** argv) {
  ract_data_flags flags;
  ract_data_flags_init(&flags);
  ract_error err = {};
  ract_metrics metrics;
  ract_metrics_init_default(&metrics);
  int batch = 256, json = 0;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    int r = ract_data_flags_parse(&flags, a, &err);
    if (r < 0) return die("", &err);
    if (r > 0) continue;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strncmp(a, "--topk=", 7)) {
      if (ract_metrics_init_list(&metrics, a + 7, &err) != RACT_OK) return die("--topk", &err);
    } else if (!strncmp(a, "--batch=", 8)) {
      batch = atoi(a + 8);
      if (batch < 1) {
        fprintf(stderr, "data: --batch=%s: expected a count >= 1\n", a + 8);
        return 2;
      }
    } else if (!strcmp(a, "--json")) {
      json = 1;
    } else {
      fprintf(stderr, "data: unknown flag %s\n\n", a);
      usage(stderr);
      return 2;
    }
  }
  if (ract_data_flags_finish(&flags, argv[0], &err) != RACT_OK) return die("", &err);

  double t0 = now_s();
  ract_dataset ds;
  if (ract_dataset_load(&ds, &flags.opt, &err) != RACT_OK) return die("", &err);
  double t1 = now_s();
  ract_dataset_print_counts(stdout, &ds);
  printf("  loaded, filtered, split in %.3f s\n", t1 - t0);

  ract_popularity pop;
  if (ract_popularity_init(&pop, &ds.train, &err) != RACT_OK) {
    ract_dataset_free(&ds);
    return die("popularity", &err);
  }
  ract_arena arena;
  size_t bytes = ract_eval_bytes(ds.n_items, batch, ract_metrics_max_k(&metrics), 1);
  if (ract_arena_create(&arena, bytes, &err) != RACT_OK) {
    ract_popularity_free(&pop);
    ract_dataset_free(&ds);
    return die("arena", &err);
  }
  const char* names[2] = {"valid", "test"};
  const ract_eval_set* sets[2] = {&ds.valid, &ds.test};
  int rc = 0;
  for (int i = 0; i < 2; i++) {
    double e0 = now_s();
    const ract_eval_job job =
        ract_eval_job_make(sets[i], ds.n_items, ract_popularity_score, &pop, batch);
    if (ract_eval_run(&metrics, &job, &arena, &err) != RACT_OK) {
      rc = die(names[i], &err);
      break;
    }
    printf("\npopularity %s result (%d users, %.3f s):\n", names[i], metrics.users, now_s() - e0);
    ract_metrics_print(stdout, &metrics);
    if (json) {
      printf("json %s ", names[i]);
      ract_metrics_write_json(stdout, &metrics);
    }
  }
  ract_arena_free(&arena);
  ract_popularity_free(&pop);
  ract_dataset_free(&ds);
  return rc;
}
