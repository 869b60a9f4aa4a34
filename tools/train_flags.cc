// tools/train's flags (train_flags.h): the flag ladder, then the checks that need every
// flag (valid_metric against --topk, --resume against --init_from, the whole config).
#include "tools/train_flags.h"

#include <stdio.h>
#include <string.h>

#include <string>

#include "tools/flags.h"

namespace {

ract_status bad(ract_error* err, const char* arg, const char* expected) {
  return ract_fail(err, RACT_ERR_ARG, "%s: expected %s", arg, expected);
}

}  // namespace

ract_status ract_train_flags_parse(ract_train_flags* f, int argc, char** argv, ract_error* err) {
  memset(f, 0, sizeof(*f));
  f->out = "model.ract";
  f->dtype = RACT_FILE_F32;
  const char* preset = "ract";
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      f->help = 1;
      return RACT_OK;
    }
    if (const char* v = ract_flag_value(argv[i], "preset")) preset = v;
  }
  if (ract_train_config_preset(&f->cfg, preset, nullptr) != RACT_OK) {
    return ract_fail(err, RACT_ERR_ARG, "--preset=%s: expected ract, paper or recbole", preset);
  }
  ract_data_flags_init(&f->data);
  ract_train_config* cfg = &f->cfg;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v;
    int r = ract_data_flags_parse(&f->data, a, err);
    if (r < 0) return err != nullptr ? err->status : RACT_ERR_ARG;
    if (r > 0) continue;
    if (ract_flag_value(a, "preset")) {
    } else if (!strcmp(a, "--quiet")) {
      f->quiet = 1;
    } else if ((v = ract_flag_value(a, "out"))) {
      f->out = v;
    } else if ((v = ract_flag_value(a, "report"))) {
      f->report = v;
    } else if ((v = ract_flag_value(a, "plot"))) {
      f->plot = v;
    } else if ((v = ract_flag_value(a, "checkpoint"))) {
      f->checkpoint = v;
    } else if ((v = ract_flag_value(a, "init_from"))) {
      f->init_from = v;
    } else if ((v = ract_flag_value(a, "resume"))) {
      f->resume = v;
    } else if ((v = ract_flag_value(a, "checkpoint_every"))) {
      if (!ract_flag_int(v, 0, 1000000, &f->checkpoint_every)) return bad(err, a, "epochs >= 0");
    } else if ((v = ract_flag_value(a, "stop_after_batches"))) {
      if (!ract_flag_int(v, 0, 1 << 30, &f->stop_after_batches)) {
        return bad(err, a, "a batch count >= 0");
      }
    } else if ((v = ract_flag_value(a, "dtype"))) {
      if (ract_file_parse_dtype(v, &f->dtype, nullptr) != RACT_OK) {
        return bad(err, a, "fp32, fp16 or int8");
      }
    } else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') != nullptr) {
      // Every key of the training config: RecBole's names (ract/train/config.h).
      std::string key(a + 2, strchr(a, '=') - (a + 2));
      ract_error e = {};
      if (ract_train_config_set(cfg, key.c_str(), strchr(a, '=') + 1, &e) != RACT_OK) {
        return ract_fail(err, RACT_ERR_ARG, "%s: %s (see --help)", a, e.msg);
      }
    } else {
      return ract_fail(err, RACT_ERR_ARG, "unknown flag %s (see --help)", a);
    }
  }
  cfg->seed = f->data.opt.seed;  // --seed (a data flag too) drives the split and the training
  if (f->resume != nullptr && f->init_from != nullptr) {
    return ract_fail(err, RACT_ERR_ARG, "--resume and --init_from exclude each other");
  }
  ract_error e = {};
  if (ract_train_config_check(cfg, &e) != RACT_OK) {
    return ract_fail(err, RACT_ERR_ARG, "the flags give an invalid configuration: %s", e.msg);
  }
  return RACT_OK;
}
