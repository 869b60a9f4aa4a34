#include "tools/data_flags.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

namespace {

const char kDefaultRel[] = "third_party/ml-latest-small/ratings.csv";
const char kWorkspace[] = "ract";

enum { kData, kTrain, kValid, kTest, kWriteSplit };

// value of `--name=value`, or NULL if arg is another flag.
const char* value_of(const char* arg, const char* name) {
  size_t n = strlen(name);
  if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0 || arg[2 + n] != '=')
    return NULL;
  return arg + 3 + n;
}

bool file_exists(const char* p) { return access(p, R_OK) == 0; }

void resolve(char* out, size_t size, const char* p) {
  const char* wd = getenv("BUILD_WORKING_DIRECTORY");
  if (p[0] != '/' && wd && *wd)
    snprintf(out, size, "%s/%s", wd, p);
  else
    snprintf(out, size, "%s", p);
}

bool parse_double(const char* s, double* out) {
  char* end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno || !isfinite(v)) return false;
  *out = v;
  return true;
}

bool parse_int(const char* s, long long lo, long long hi, long long* out) {
  char* end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (end == s || *end || errno || v < lo || v > hi) return false;
  *out = v;
  return true;
}

int fail(ract_error* err, const char* flag, const char* value, const char* why) {
  ract_fail(err, RACT_ERR_ARG, "--%s=%s: %s", flag, value, why);
  return -1;
}

}  // namespace

void ract_data_flags_init(ract_data_flags* f) {
  memset(f, 0, sizeof(*f));
  f->opt = ract_data_options_default();
}

int ract_data_flags_parse(ract_data_flags* f, const char* arg, ract_error* err) {
  ract_data_options* o = &f->opt;
  const char* v;
  struct PathFlag {
    const char* name;
    int slot;
    const char** dst;
  } paths[] = {{"data", kData, &o->data},
               {"train", kTrain, &o->train},
               {"valid", kValid, &o->valid},
               {"test", kTest, &o->test},
               {"write_split", kWriteSplit, &o->write_split}};
  for (const PathFlag& p : paths) {
    if ((v = value_of(arg, p.name))) {
      if (!*v) return fail(err, p.name, v, "empty path");
      resolve(f->path[p.slot], sizeof(f->path[p.slot]), v);
      *p.dst = f->path[p.slot];
      return 1;
    }
  }
  if ((v = value_of(arg, "format"))) {
    if (ract_format_parse(v, &o->load.format, NULL) != RACT_OK)
      return fail(err, "format", v, "expected auto, inter, udata, dat, csv or tsv");
    return 1;
  }
  const char* cols[3] = {"user_col", "item_col", "rating_col"};
  const char** col_dst[3] = {&o->load.user_col, &o->load.item_col, &o->load.rating_col};
  for (int i = 0; i < 3; i++)
    if ((v = value_of(arg, cols[i]))) {
      if (!*v) return fail(err, cols[i], v, "expected a column name or a 0-based position");
      *col_dst[i] = v;
      return 1;
    }
  if ((v = value_of(arg, "header"))) {
    if (!strcmp(v, "auto"))
      o->load.header = -1;
    else if (!strcmp(v, "yes"))
      o->load.header = 1;
    else if (!strcmp(v, "no"))
      o->load.header = 0;
    else
      return fail(err, "header", v, "expected auto, yes or no");
    return 1;
  }
  if ((v = value_of(arg, "threshold"))) {
    double t;
    f->set_threshold = 1;
    if (!strcmp(v, "none")) {
      o->use_threshold = 0;
      return 1;
    }
    if (!parse_double(v, &t)) return fail(err, "threshold", v, "expected a number or none");
    o->use_threshold = 1;
    o->threshold = (float)t;
    return 1;
  }
  if ((v = value_of(arg, "user_inter_num_interval"))) {
    ract_error e;
    if (ract_interval_parse(v, &o->user_inter_num, &e) != RACT_OK)
      return fail(err, "user_inter_num_interval", v, "expected e.g. [5,inf)");
    f->set_user_inter = 1;
    return 1;
  }
  if ((v = value_of(arg, "item_inter_num_interval"))) {
    ract_error e;
    if (ract_interval_parse(v, &o->item_inter_num, &e) != RACT_OK)
      return fail(err, "item_inter_num_interval", v, "expected e.g. [5,inf)");
    f->set_item_inter = 1;
    return 1;
  }
  if ((v = value_of(arg, "split"))) {
    if (!strcmp(v, "RS") || !strcmp(v, "rs"))
      o->split = RACT_SPLIT_RS;
    else if (!strcmp(v, "paper"))
      o->split = RACT_SPLIT_PAPER;
    else
      return fail(err, "split", v, "expected RS or paper");
    f->set_split = 1;
    return 1;
  }
  if ((v = value_of(arg, "split_ratio"))) {
    double r[3];
    char buf[128];
    // A longer value would be cut, and a cut value may parse (0.8,0.1,0.1<120 digits>x).
    if (strlen(v) >= sizeof(buf)) return fail(err, "split_ratio", v, "value too long");
    snprintf(buf, sizeof(buf), "%s", v);
    char* save = NULL;
    int n = 0;
    for (char* t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      if (n == 3 || !parse_double(t, &r[n]) || r[n] < 0)
        return fail(err, "split_ratio", v, "expected three non-negative numbers, e.g. 0.8,0.1,0.1");
      n++;
    }
    if (n != 3 || r[0] + r[1] + r[2] <= 0)
      return fail(err, "split_ratio", v, "expected three non-negative numbers, e.g. 0.8,0.1,0.1");
    memcpy(o->split_ratio, r, sizeof(r));
    return 1;
  }
  if ((v = value_of(arg, "heldout_users"))) {
    long long n;
    if (!parse_int(v, 1, INT_MAX, &n))
      return fail(err, "heldout_users", v, "expected a count >= 1");
    o->heldout_users = (int)n;
    f->set_heldout = 1;
    return 1;
  }
  if ((v = value_of(arg, "holdout_fraction"))) {
    double x;
    if (!parse_double(v, &x) || x <= 0 || x >= 1)
      return fail(err, "holdout_fraction", v, "expected a number in (0, 1)");
    o->holdout_fraction = x;
    return 1;
  }
  if ((v = value_of(arg, "seed"))) {
    long long n;
    if (!parse_int(v, 0, LLONG_MAX, &n)) return fail(err, "seed", v, "expected an integer >= 0");
    o->seed = (uint64_t)n;
    return 1;
  }
  if ((v = value_of(arg, "dataset_name"))) {
    o->name = v;
    return 1;
  }
  return 0;
}

ract_status ract_data_flags_default_file(char* buf, size_t size, const char* argv0,
                                         ract_error* err) {
  char tried[5][4096];
  int n = 0;
  const char* env = getenv("RACT_DEFAULT_DATA");
  if (env && *env) {
    if (!file_exists(env))
      return ract_fail(err, RACT_ERR_IO, "$RACT_DEFAULT_DATA=%s: no such readable file", env);
    snprintf(buf, size, "%s", env);
    return RACT_OK;
  }
  // snprintf's result is checked so that a truncated path is never tried.
  auto add = [&](const char* a, const char* b, const char* c) {
    int w = snprintf(tried[n], sizeof(tried[n]), "%s%s%s", a, b, c);
    if (w > 0 && (size_t)w < sizeof(tried[n])) n++;
  };
  char mid[64];
  snprintf(mid, sizeof(mid), "/%s/", kWorkspace);
  const char* rf = getenv("RUNFILES_DIR");
  if (rf && *rf) add(rf, mid, kDefaultRel);
  char exe[4096];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  char runfiles_mid[80];
  snprintf(runfiles_mid, sizeof(runfiles_mid), ".runfiles/%s/", kWorkspace);
  if (len > 0) {
    exe[len] = '\0';
    add(exe, runfiles_mid, kDefaultRel);
  }
  if (argv0 && *argv0) add(argv0, runfiles_mid, kDefaultRel);
  add("", "", kDefaultRel);
  const char* ws = getenv("BUILD_WORKSPACE_DIRECTORY");
  if (ws && *ws) add(ws, "/", kDefaultRel);
  for (int i = 0; i < n; i++)
    if (file_exists(tried[i])) {
      snprintf(buf, size, "%s", tried[i]);
      return RACT_OK;
    }
  return ract_fail(err, RACT_ERR_IO,
                   "default data %s not found (run the tool with `bazel run`, or set "
                   "$RACT_DEFAULT_DATA, or give --data=FILE)",
                   kDefaultRel);
}

ract_status ract_data_flags_finish(ract_data_flags* f, const char* argv0, ract_error* err) {
  ract_data_options* o = &f->opt;
  if (o->data || o->train || o->valid || o->test) {
    if (!o->data && !(o->train && o->valid && o->test))
      return ract_fail(err, RACT_ERR_ARG,
                       "pre-split data needs all of --train, --valid and --test");
    return RACT_OK;
  }
  RACT_CHECK(ract_data_flags_default_file(f->path[kData], sizeof(f->path[kData]), argv0, err));
  o->data = f->path[kData];
  if (!o->name) o->name = "ml-latest-small";
  ract_data_options paper = *o;
  ract_data_options_set_paper(&paper);
  if (!f->set_threshold) o->use_threshold = paper.use_threshold, o->threshold = paper.threshold;
  if (!f->set_user_inter) o->user_inter_num = paper.user_inter_num;
  if (!f->set_split) o->split = paper.split;
  return RACT_OK;
}

const char* ract_data_flags_usage(void) {
  return "Data flags (RecBole names where RecBole has one):\n"
         "  --data=FILE                   one interaction file (.inter, u.data, ratings.dat, csv, "
         "tsv)\n"
         "  --format=auto|inter|udata|dat|csv|tsv   file format (default auto)\n"
         "  --user_col=NAME|POS --item_col=NAME|POS --rating_col=NAME|POS|none\n"
         "                                columns by header name or 0-based position\n"
         "  --header=auto|yes|no          csv/tsv header line (default auto)\n"
         "  --threshold=T|none            keep ratings >= T as positives\n"
         "  --user_inter_num_interval='[5,inf)'  k-core on users (iterated with items)\n"
         "  --item_inter_num_interval='[5,inf)'  k-core on items\n"
         "  --split=RS|paper              RecBole's per-user ratio split, or held-out users\n"
         "  --split_ratio=0.8,0.1,0.1     RS ratios (train, valid, test)\n"
         "  --heldout_users=N             paper: N validation and N test users (default 10%)\n"
         "  --holdout_fraction=0.2        paper: share of a held-out user's items hidden\n"
         "  --train=F --valid=F --test=F  pre-split files (header user_id<TAB>item_id)\n"
         "  --seed=2020                   seed of the split and of training\n"
         "  --write_split=DIR             write the split as TSV files to DIR\n"
         "  --dataset_name=NAME           name shown in reports\n"
         "With no data flag: third_party/ml-latest-small/ratings.csv under the paper's protocol\n"
         "(threshold 4, users >= 5 positives, 10%/10% held-out users, 80/20 fold-in);\n"
         "$RACT_DEFAULT_DATA overrides the default file.\n";
}
