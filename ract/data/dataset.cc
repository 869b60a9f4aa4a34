// The one entry point from data options to a dataset.
#include "ract/data/dataset.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ract/data/split.h"

const char* ract_split_kind_name(ract_split_kind k) {
  switch (k) {
    case RACT_SPLIT_RS:
      return "RS";
    case RACT_SPLIT_PAPER:
      return "paper";
    case RACT_SPLIT_FILES:
      return "files";
  }
  return "?";
}

ract_data_options ract_data_options_default(void) {
  ract_data_options o;
  memset(&o, 0, sizeof(o));
  o.load = ract_load_options_default();
  o.user_inter_num = ract_interval_all();
  o.item_inter_num = ract_interval_all();
  o.split = RACT_SPLIT_RS;
  o.split_ratio[0] = 0.8;
  o.split_ratio[1] = 0.1;
  o.split_ratio[2] = 0.1;
  o.heldout_users = -1;
  o.holdout_fraction = 0.2;
  o.seed = 2020;
  return o;
}

void ract_data_options_set_paper(ract_data_options* o) {
  o->use_threshold = 1;
  o->threshold = 4.0f;
  o->user_inter_num.lo = 5;
  o->user_inter_num.lo_open = 0;
  o->split = RACT_SPLIT_PAPER;
}

void ract_eval_set_free(ract_eval_set* s) {
  if (!s) return;
  free(s->users);
  ract_csr_free(&s->input);
  ract_csr_free(&s->mask);
  ract_csr_free(&s->truth);
  memset(s, 0, sizeof(*s));
}

void ract_dataset_free(ract_dataset* ds) {
  if (!ds) return;
  ract_vocab_free(&ds->users);
  ract_vocab_free(&ds->items);
  ract_csr_free(&ds->train);
  free(ds->train_users);
  ract_eval_set_free(&ds->valid);
  ract_eval_set_free(&ds->test);
  memset(ds, 0, sizeof(*ds));
}

namespace {

// The name option, else the data file's name, else the pre-split folder's.
void set_name(ract_dataset* ds, const ract_data_options* o) {
  if (o->name) {
    snprintf(ds->name, sizeof(ds->name), "%s", o->name);
    return;
  }
  const char* path = o->data ? o->data : o->train;
  const char* end = path + strlen(path);
  // A file: its name. Pre-split files: the last two folders (ml-100k/recbole_split).
  int parts = o->data ? 1 : 2;
  if (!o->data) {
    while (end > path && end[-1] != '/') end--;
    while (end > path && end[-1] == '/') end--;
  }
  const char* b = end;
  for (int k = 0; k < parts && b > path; k++) {
    if (k > 0) b--;  // the slash before the previous component
    while (b > path && b[-1] != '/') b--;
  }
  if (b == end) {
    snprintf(ds->name, sizeof(ds->name), "data");
    return;
  }
  snprintf(ds->name, sizeof(ds->name), "%.*s", (int)(end - b), b);
}

// An evaluation set from the rows (users) that have truth items. input/mask/truth are
// user-indexed matrices (n_users rows); mask may equal input.
ract_status make_eval_set(ract_eval_set* out, const ract_csr* input, const ract_csr* mask,
                          const ract_csr* truth, const int32_t* row_users, ract_error* err) {
  memset(out, 0, sizeof(*out));
  int n = 0;
  for (int r = 0; r < truth->rows; r++) n += ract_csr_row_nnz(truth, r) > 0;
  int32_t* rows = (int32_t*)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
  out->users = (int32_t*)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
  if (!rows || !out->users) {
    free(rows);
    ract_eval_set_free(out);
    return ract_fail(err, RACT_ERR_NOMEM, "eval set: cannot allocate %d rows", n);
  }
  n = 0;
  for (int r = 0; r < truth->rows; r++)
    if (ract_csr_row_nnz(truth, r) > 0) {
      rows[n] = r;
      out->users[n] = row_users ? row_users[r] : r;
      n++;
    }
  out->rows = n;
  ract_status s = ract_csr_select_rows(&out->input, input, rows, n, err);
  if (s == RACT_OK) s = ract_csr_select_rows(&out->mask, mask, rows, n, err);
  if (s == RACT_OK) s = ract_csr_select_rows(&out->truth, truth, rows, n, err);
  free(rows);
  if (s != RACT_OK) ract_eval_set_free(out);
  return s;
}

int32_t* identity(int n) {
  int32_t* v = (int32_t*)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
  if (v)
    for (int i = 0; i < n; i++) v[i] = i;
  return v;
}

// RecBole-style sets from user-indexed train/valid/test parts.
ract_status make_recbole_sets(ract_dataset* ds, const ract_csr* vpart, const ract_csr* tpart,
                              ract_error* err) {
  RACT_CHECK(make_eval_set(&ds->valid, &ds->train, &ds->train, vpart, NULL, err));
  ract_csr seen;
  RACT_CHECK(ract_csr_union(&seen, &ds->train, vpart, err));
  ract_status s = make_eval_set(&ds->test, &ds->train, &seen, tpart, NULL, err);
  ract_csr_free(&seen);
  return s;
}

ract_status load_single(ract_dataset* ds, const ract_data_options* o, ract_error* err) {
  ract_vocab raw_users, raw_items;
  ract_vocab_init(&raw_users);
  ract_vocab_init(&raw_items);
  ract_inter x;
  ract_status s = ract_load_file(&x, &raw_users, &raw_items, o->data, &o->load, err);
  int32_t *umap = NULL, *imap = NULL, *uorder = NULL, *iorder = NULL;
  ract_csr all = {};
  if (s != RACT_OK) goto done;
  ds->counts.loaded_rows = x.n;
  if (o->use_threshold) {
    if (!x.rating) {
      s = ract_fail(err, RACT_ERR_DATA,
                    "%s: --threshold needs a rating column (none found, "
                    "or 'none' chosen)",
                    o->data);
      goto done;
    }
    s = ract_filter_threshold(&x, o->threshold, err);
    if (s != RACT_OK) goto done;
  }
  s = ract_filter_kcore(&x, raw_users.n, raw_items.n, o->user_inter_num, o->item_inter_num,
                        &ds->counts.kcore_rounds, err);
  if (s != RACT_OK) goto done;
  ds->counts.kept_rows = x.n;
  if (x.n == 0) {
    s = ract_fail(err, RACT_ERR_DATA, "%s: no interaction left after the filters (%lld read)",
                  o->data, (long long)ds->counts.loaded_rows);
    goto done;
  }
  // Dense ids by first appearance among the surviving rows.
  umap = (int32_t*)malloc((size_t)raw_users.n * sizeof(int32_t));
  imap = (int32_t*)malloc((size_t)raw_items.n * sizeof(int32_t));
  uorder = (int32_t*)malloc((size_t)raw_users.n * sizeof(int32_t));
  iorder = (int32_t*)malloc((size_t)raw_items.n * sizeof(int32_t));
  if (!umap || !imap || !uorder || !iorder) {
    s = ract_fail(err, RACT_ERR_NOMEM, "dataset: cannot allocate id maps");
    goto done;
  }
  {
    memset(umap, 0xff, (size_t)raw_users.n * sizeof(int32_t));
    memset(imap, 0xff, (size_t)raw_items.n * sizeof(int32_t));
    int nu = 0, ni = 0;
    for (int64_t i = 0; i < x.n; i++) {
      int32_t u = x.user[i], it = x.item[i];
      if (umap[u] < 0) uorder[nu] = u, umap[u] = nu++;
      if (imap[it] < 0) iorder[ni] = it, imap[it] = ni++;
      x.user[i] = umap[u];
      x.item[i] = imap[it];
    }
    s = ract_vocab_subset(&ds->users, &raw_users, uorder, nu, err);
    if (s == RACT_OK) s = ract_vocab_subset(&ds->items, &raw_items, iorder, ni, err);
    if (s != RACT_OK) goto done;
    ds->n_users = nu;
    ds->n_items = ni;
  }
  s = ract_csr_build(&all, ds->n_users, ds->n_items, x.n, x.user, x.item, NULL, err);
  if (s != RACT_OK) goto done;
  ds->counts.duplicates = x.n - all.nnz;

  if (o->split == RACT_SPLIT_RS) {
    ract_csr vpart = {}, tpart = {};
    s = ract_split_ratio(&ds->train, &vpart, &tpart, &all, o->split_ratio, o->seed, err);
    if (s == RACT_OK) {
      ds->counts.valid_pairs = vpart.nnz;
      ds->counts.test_pairs = tpart.nnz;
      ds->train_users = identity(ds->n_users);
      s = ds->train_users ? make_recbole_sets(ds, &vpart, &tpart, err)
                          : ract_fail(err, RACT_ERR_NOMEM, "dataset: cannot allocate");
    }
    ract_csr_free(&vpart);
    ract_csr_free(&tpart);
  } else {
    int nh = o->heldout_users >= 0 ? o->heldout_users : (int)(0.1 * ds->n_users);
    if (nh < 1) nh = 1;
    int32_t *tr_users = NULL, *va_users = NULL, *te_users = NULL;
    int n_tr = 0;
    ract_csr tr = {}, va = {}, te = {}, va_r = {}, te_r = {};
    ract_csr va_in = {}, va_hid = {}, te_in = {}, te_hid = {};
    int32_t* remap = NULL;
    int32_t* keep = NULL;
    int nk = 0;
    s = ract_split_pick_users(&tr_users, &n_tr, &va_users, &te_users, ds->n_users, nh, nh, o->seed,
                              err);
    if (s == RACT_OK) s = ract_csr_select_rows(&tr, &all, tr_users, n_tr, err);
    if (s == RACT_OK) s = ract_csr_select_rows(&va, &all, va_users, nh, err);
    if (s == RACT_OK) s = ract_csr_select_rows(&te, &all, te_users, nh, err);
    if (s == RACT_OK) {
      // Keep the items train users have, in their dense order.
      remap = (int32_t*)malloc((size_t)ds->n_items * sizeof(int32_t));
      keep = (int32_t*)malloc((size_t)ds->n_items * sizeof(int32_t));
      if (!remap || !keep) s = ract_fail(err, RACT_ERR_NOMEM, "dataset: cannot allocate");
    }
    if (s == RACT_OK) {
      memset(remap, 0, (size_t)ds->n_items * sizeof(int32_t));
      for (int64_t i = 0; i < tr.nnz; i++) remap[tr.idx[i]] = 1;
      for (int i = 0; i < ds->n_items; i++) {
        if (remap[i])
          keep[nk] = i, remap[i] = nk++;
        else
          remap[i] = -1;
      }
      ds->counts.dropped_items = ds->n_items - nk;
      s = ract_csr_remap_cols(&ds->train, &tr, remap, nk, err);
      if (s == RACT_OK) s = ract_csr_remap_cols(&va_r, &va, remap, nk, err);
      if (s == RACT_OK) s = ract_csr_remap_cols(&te_r, &te, remap, nk, err);
      if (s == RACT_OK && nk < ds->n_items) {
        ract_vocab items;
        s = ract_vocab_subset(&items, &ds->items, keep, nk, err);
        if (s == RACT_OK) {
          ract_vocab_free(&ds->items);
          ds->items = items;
        }
      }
      ds->n_items = nk;
    }
    if (s == RACT_OK)
      s = ract_split_holdout(&va_in, &va_hid, &va_r, o->holdout_fraction, o->seed, 1, err);
    if (s == RACT_OK)
      s = ract_split_holdout(&te_in, &te_hid, &te_r, o->holdout_fraction, o->seed, 2, err);
    if (s == RACT_OK) {
      ds->counts.valid_pairs = va_r.nnz;
      ds->counts.test_pairs = te_r.nnz;
      ds->train_users = tr_users;
      tr_users = NULL;
      s = make_eval_set(&ds->valid, &va_in, &va_in, &va_hid, va_users, err);
    }
    if (s == RACT_OK) s = make_eval_set(&ds->test, &te_in, &te_in, &te_hid, te_users, err);
    free(tr_users), free(va_users), free(te_users), free(remap), free(keep);
    ract_csr_free(&tr), ract_csr_free(&va), ract_csr_free(&te);
    ract_csr_free(&va_r), ract_csr_free(&te_r);
    ract_csr_free(&va_in), ract_csr_free(&va_hid), ract_csr_free(&te_in), ract_csr_free(&te_hid);
  }
done:
  ract_csr_free(&all);
  free(umap), free(imap), free(uorder), free(iorder);
  ract_inter_free(&x);
  ract_vocab_free(&raw_users);
  ract_vocab_free(&raw_items);
  return s;
}

ract_status load_files(ract_dataset* ds, const ract_data_options* o, ract_error* err) {
  if (!o->valid || !o->test)
    return ract_fail(err, RACT_ERR_ARG, "pre-split data needs --train, --valid and --test");
  if (o->use_threshold || !ract_interval_is_all(o->user_inter_num) ||
      !ract_interval_is_all(o->item_inter_num))
    return ract_fail(err, RACT_ERR_ARG,
                     "--threshold and the inter_num intervals apply to "
                     "--data only, not to pre-split files");
  ract_vocab_init(&ds->users);
  ract_vocab_init(&ds->items);
  ract_inter parts[3] = {};
  const char* paths[3] = {o->train, o->valid, o->test};
  ract_status s = RACT_OK;
  for (int k = 0; k < 3 && s == RACT_OK; k++) {
    s = ract_load_file(&parts[k], &ds->users, &ds->items, paths[k], &o->load, err);
    if (s == RACT_OK) ds->counts.loaded_rows += parts[k].n;
  }
  ract_csr m[3] = {};
  if (s == RACT_OK) {
    ds->n_users = ds->users.n;
    ds->n_items = ds->items.n;
    for (int k = 0; k < 3 && s == RACT_OK; k++)
      s = ract_csr_build(&m[k], ds->n_users, ds->n_items, parts[k].n, parts[k].user, parts[k].item,
                         NULL, err);
  }
  if (s == RACT_OK) {
    ds->counts.kept_rows = ds->counts.loaded_rows;
    ds->counts.duplicates = ds->counts.loaded_rows - m[0].nnz - m[1].nnz - m[2].nnz;
    ds->counts.valid_pairs = m[1].nnz;
    ds->counts.test_pairs = m[2].nnz;
    for (int u = 0; u < ds->n_users; u++) ds->counts.cold_users += ract_csr_row_nnz(&m[0], u) == 0;
    for (int k = 1; k < 3; k++)
      for (int u = 0; u < ds->n_users; u++)
        for (int64_t i = m[k].ptr[u]; i < m[k].ptr[u + 1]; i++)
          ds->counts.overlap += ract_csr_has(&m[0], u, m[k].idx[i]);
    ds->train = m[0];
    memset(&m[0], 0, sizeof(m[0]));
    ds->train_users = identity(ds->n_users);
    s = ds->train_users ? make_recbole_sets(ds, &m[1], &m[2], err)
                        : ract_fail(err, RACT_ERR_NOMEM, "dataset: cannot allocate");
  }
  for (int k = 0; k < 3; k++) {
    ract_inter_free(&parts[k]);
    ract_csr_free(&m[k]);
  }
  return s;
}

}  // namespace

ract_status ract_dataset_load(ract_dataset* ds, const ract_data_options* o, ract_error* err) {
  memset(ds, 0, sizeof(*ds));
  if (!o) return ract_fail(err, RACT_ERR_ARG, "dataset: no options");
  if (o->data && o->train)
    return ract_fail(err, RACT_ERR_ARG, "give either --data or --train/--valid/--test, not both");
  if (!o->data && !o->train)
    return ract_fail(err, RACT_ERR_ARG, "no data: give --data=FILE or --train/--valid/--test");
  if (o->train && o->split == RACT_SPLIT_PAPER)
    return ract_fail(err, RACT_ERR_ARG, "--split=paper needs one --data file, not pre-split files");
  set_name(ds, o);
  ract_status s;
  if (o->data) {
    ds->split = o->split;
    s = load_single(ds, o, err);
  } else {
    ds->split = RACT_SPLIT_FILES;
    s = load_files(ds, o, err);
  }
  if (s == RACT_OK && o->write_split) s = ract_dataset_write_split(ds, o->write_split, err);
  if (s != RACT_OK) ract_dataset_free(ds);
  return s;
}

// mkdir -p.
static ract_status make_dirs(const char* dir, ract_error* err) {
  char buf[4096];
  int n = snprintf(buf, sizeof(buf), "%s", dir);
  if (n <= 0 || (size_t)n >= sizeof(buf))
    return ract_fail(err, RACT_ERR_ARG, "split folder: bad path '%s'", dir);
  for (char* p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return ract_fail(err, RACT_ERR_IO, "%s: cannot create the folder: %s", buf,
                         strerror(errno));
      *p = c;
      if (c == '\0') break;
    }
  }
  return RACT_OK;
}

ract_status ract_dataset_write_split(const ract_dataset* ds, const char* dir, ract_error* err) {
  RACT_CHECK(make_dirs(dir, err));
  char path[4096];
  struct Out {
    const char* file;
    const ract_csr* m;
    const int32_t* users;
  };
  Out outs[5];
  int n = 0;
  outs[n++] = {"train.tsv", &ds->train, ds->train_users};
  if (ds->split == RACT_SPLIT_PAPER) {
    outs[n++] = {"valid_tr.tsv", &ds->valid.input, ds->valid.users};
    outs[n++] = {"valid_te.tsv", &ds->valid.truth, ds->valid.users};
    outs[n++] = {"test_tr.tsv", &ds->test.input, ds->test.users};
    outs[n++] = {"test_te.tsv", &ds->test.truth, ds->test.users};
  } else {
    outs[n++] = {"valid.tsv", &ds->valid.truth, ds->valid.users};
    outs[n++] = {"test.tsv", &ds->test.truth, ds->test.users};
  }
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof(path), "%s/%s", dir, outs[i].file);
    RACT_CHECK(ract_split_write_tsv(path, outs[i].m, outs[i].users, &ds->users, &ds->items, err));
  }
  return RACT_OK;
}

static int64_t distinct_cols(const ract_csr* m, uint8_t* seen, int n_items) {
  memset(seen, 0, (size_t)n_items);
  int64_t c = 0;
  for (int64_t i = 0; i < m->nnz; i++)
    if (!seen[m->idx[i]]) seen[m->idx[i]] = 1, c++;
  return c;
}

static int nonempty_rows(const ract_csr* m) {
  int c = 0;
  for (int r = 0; r < m->rows; r++) c += ract_csr_row_nnz(m, r) > 0;
  return c;
}

int64_t ract_dataset_train_nnz(const ract_dataset* ds) {
  return ds->counts.partial ? ds->counts.whole_train_nnz : ds->train.nnz;
}

uint64_t ract_dataset_train_hash(const ract_dataset* ds) {
  return ds->counts.partial ? ds->counts.whole_train_hash : ract_csr_hash(&ds->train);
}

int64_t ract_dataset_interactions(const ract_dataset* ds) {
  int64_t total = ds->train.nnz + ds->valid.truth.nnz + ds->test.truth.nnz;
  if (ds->split == RACT_SPLIT_PAPER) total += ds->valid.input.nnz + ds->test.input.nnz;
  return total;
}

void ract_dataset_print_counts(FILE* f, const ract_dataset* ds) {
  uint8_t* seen = (uint8_t*)malloc((size_t)(ds->n_items ? ds->n_items : 1));
  const int64_t total = ract_dataset_interactions(ds);
  fprintf(f, "dataset %s (split %s)\n", ds->name, ract_split_kind_name(ds->split));
  fprintf(f, "  users %d, items %d (model width), interactions %lld, density %.4f%%\n", ds->n_users,
          ds->n_items, (long long)total,
          100.0 * (double)total / ((double)ds->n_users * (double)(ds->n_items ? ds->n_items : 1)));
  fprintf(f, "  rows read %lld, kept after filters %lld, duplicates merged %lld",
          (long long)ds->counts.loaded_rows, (long long)ds->counts.kept_rows,
          (long long)ds->counts.duplicates);
  if (ds->counts.kcore_rounds) fprintf(f, ", k-core passes %d", ds->counts.kcore_rounds);
  fprintf(f, "\n");
  struct Part {
    const char* name;
    const ract_csr* m;
  };
  Part parts[5];
  int n = 0;
  parts[n++] = {"train", &ds->train};
  if (ds->split == RACT_SPLIT_PAPER) {
    parts[n++] = {"valid fold-in", &ds->valid.input};
    parts[n++] = {"valid hidden", &ds->valid.truth};
    parts[n++] = {"test fold-in", &ds->test.input};
    parts[n++] = {"test hidden", &ds->test.truth};
  } else {
    parts[n++] = {"valid", &ds->valid.truth};
    parts[n++] = {"test", &ds->test.truth};
  }
  for (int i = 0; i < n; i++) {
    int users = nonempty_rows(parts[i].m);
    int64_t items = seen ? distinct_cols(parts[i].m, seen, ds->n_items) : 0;
    fprintf(f, "  %-14s users %6d  items %6lld  interactions %9lld  density %.4f%%\n",
            parts[i].name, users, (long long)items, (long long)parts[i].m->nnz,
            users && ds->n_items ? 100.0 * (double)parts[i].m->nnz / ((double)users * ds->n_items)
                                 : 0.0);
  }
  fprintf(f, "  evaluated users: valid %d, test %d\n", ds->valid.rows, ds->test.rows);
  if (ds->split == RACT_SPLIT_FILES)
    fprintf(f, "  cold users (no train row) %d, train/eval overlapping pairs %lld\n",
            ds->counts.cold_users, (long long)ds->counts.overlap);
  if (ds->split == RACT_SPLIT_PAPER)
    fprintf(f, "  items dropped (only held-out users had them) %lld\n",
            (long long)ds->counts.dropped_items);
  free(seen);
}
