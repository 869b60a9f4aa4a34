// Reports of the tools: the JSON report (`--report=FILE.json`) and the SVG plot of a
// training run (`--plot=FILE.svg`). Both are written atomically.
#ifndef RACT_TOOLS_REPORT_H_
#define RACT_TOOLS_REPORT_H_

#include <stdio.h>

#include "ract/core/status.h"
#include "ract/data/dataset.h"
#include "ract/eval/metrics.h"
#include "ract/train/trainer.h"

// A JSON number (%.6g; null when not finite) and a JSON string (escaped).
void ract_json_number(FILE* f, double v);
void ract_json_string(FILE* f, const char* s);

// {"users": N, "items": N, "train": N, "valid": N, "test": N, ...} of a dataset.
void ract_report_data_json(FILE* f, const ract_dataset* ds);

// The report of a training run:
// {"preset", "data": {counts}, "stages": [{"name", "epochs", "seconds", "seconds_per_epoch",
//  "best_epoch", "best_valid": {metric: value}}], "critic": {"corr", "pairs", "mean_q",
//  "mean_target"}, "verdict": {"metric", "actor_valid", "finetune_valid", "gain"}, "valid":
//  {...}, "test": {...}}
typedef struct ract_run_report {
  const ract_trainer* trainer;
  const ract_metrics* valid;
  const ract_metrics* test;
  const ract_critic_fit* critic;  // the critic's check (corr NAN: none ran)
} ract_run_report;

ract_status ract_report_write(const char* path, const ract_run_report* r, ract_error* err);

// The evaluation of a weight file (tools/score --eval): same keys as the training report.
ract_status ract_report_write_eval(const char* path, const char* model, const ract_dataset* ds,
                                   const ract_metrics* valid, const ract_metrics* test,
                                   ract_error* err);

// Training curves per stage (loss; validation metric) and the critic's predicted vs true
// NDCG (q, target: n points of the critic's check; n = 0 leaves the panel out).
ract_status ract_plot_write(const char* path, const ract_trainer* t, const float* q,
                            const float* target, int n, double corr, ract_error* err);

#endif  // RACT_TOOLS_REPORT_H_
