// The dataset every consumer uses (trainer, evaluation, tools): vocabularies, the train
// matrix and the validation/test evaluation sets, built by ONE entry point,
// ract_dataset_load, from ract_data_options (which tools fill from command-line flags,
// tools/data_flags.h).
//
// Pipeline for one interaction file (--data): load -> rating threshold -> k-core (on raw
// rows, as RecBole counts them) -> dense ids by first appearance among the surviving rows
// (pandas.factorize order, as RecBole) -> CSR (duplicate pairs merged) -> split (RS or
// paper). Pre-split files (--train/--valid/--test) are loaded with shared vocabularies,
// dense ids by first appearance in train, then valid, then test; filters do not apply.
//
// Rules for pre-split files: an item that occurs only in valid/test stays in the item
// vocabulary and the model width n_items includes it (RecBole does the same: its ml-100k
// split has 27 such items, n_items 1,682 here = RecBole's 1,683 minus [PAD]). A user that
// occurs only in valid/test gets a dense id and an empty train row; it is evaluated with an
// empty input (cold start) as RecBole would, and counted in counts.cold_users. A pair in
// both train and valid/test is kept in both and counted in counts.overlap (it is masked
// in the test phase, so it can never be a hit).
//
// Evaluation sets: one row per evaluated user (users with at least one truth item).
// RecBole protocols: input = the user's train items; valid mask = train items; test mask =
// train and valid items. Paper protocol: input = mask = the fold-in items (80%), truth =
// the hidden 20%. Under the paper protocol, items no train user has are dropped (Liang et
// al.'s preprocessing): n_items counts the train users' items.
#ifndef RACT_DATA_DATASET_H_
#define RACT_DATA_DATASET_H_

#include <stdint.h>
#include <stdio.h>

#include "ract/core/status.h"
#include "ract/data/csr.h"
#include "ract/data/filter.h"
#include "ract/data/loader.h"
#include "ract/data/vocab.h"

typedef enum ract_split_kind {
  RACT_SPLIT_RS = 0,  // RecBole's per-user random ratio split
  RACT_SPLIT_PAPER,   // strong generalisation: held-out users, fold-in / hidden
  RACT_SPLIT_FILES,   // pre-split train/valid/test files
} ract_split_kind;

const char* ract_split_kind_name(ract_split_kind k);  // "RS", "paper", "files"

typedef struct ract_data_options {
  const char* data;   // one interaction file (NULL with pre-split files)
  const char* train;  // pre-split files (all three, or none)
  const char* valid;
  const char* test;
  ract_load_options load;  // format, columns, header
  int use_threshold;       // 1: keep rows with rating >= threshold
  float threshold;
  ract_interval user_inter_num;  // RecBole's user_inter_num_interval
  ract_interval item_inter_num;  // item_inter_num_interval
  ract_split_kind split;         // RS or paper for --data (FILES is implied by train)
  double split_ratio[3];         // RS: train, valid, test (normalised)
  int heldout_users;             // paper: N validation and N test users; -1 = 10% of users
  double holdout_fraction;       // paper: share of a held-out user's items hidden
  uint64_t seed;
  const char* write_split;  // folder to write the split to, or NULL
  const char* name;         // dataset name for messages; NULL = from the file name
} ract_data_options;

// RecBole defaults: no threshold, no k-core, RS 0.8/0.1/0.1, seed 2020, paper held-out
// users 10%, holdout fraction 0.2.
ract_data_options ract_data_options_default(void);
// The paper's protocol defaults on top: threshold 4, users with >= 5 positives, split paper.
void ract_data_options_set_paper(ract_data_options* o);

typedef struct ract_eval_set {
  int rows;
  int32_t* users;  // rows dense user ids
  ract_csr input;  // rows x n_items: the model's input per row
  ract_csr mask;   // rows x n_items: items scored -inf
  ract_csr truth;  // rows x n_items: relevant items
} ract_eval_set;

typedef struct ract_data_counts {
  int64_t loaded_rows;  // rows read from the file(s)
  int64_t kept_rows;    // after threshold and k-core
  int64_t duplicates;   // duplicate pairs merged
  int kcore_rounds;     // passes of the k-core filter
  int cold_users;       // pre-split: users with no train row
  int64_t overlap;      // pre-split: pairs in train and in valid or test
  int64_t valid_pairs;  // interactions in the valid part (RS/files: the valid split)
  int64_t test_pairs;
  int64_t dropped_items;  // paper: items only held-out users have
  // Set when this process emptied the rows other ranks read (ract_trainer_keep_own_rows; 0
  // in a whole dataset): the whole training matrix's entries and fingerprint, as
  // ract_dataset_train_nnz / ract_dataset_train_hash give them.
  int partial;
  int64_t whole_train_nnz;
  uint64_t whole_train_hash;
} ract_data_counts;

typedef struct ract_dataset {
  char name[256];
  ract_split_kind split;
  ract_vocab users;
  ract_vocab items;
  int n_users;
  int n_items;           // the model width
  ract_csr train;        // train_rows x n_items
  int32_t* train_users;  // train.rows dense user ids (RecBole: row r is user r)
  ract_eval_set valid;
  ract_eval_set test;
  ract_data_counts counts;
} ract_dataset;

// Builds the dataset. `ds` is overwritten; on failure it is left freed.
ract_status ract_dataset_load(ract_dataset* ds, const ract_data_options* opt, ract_error* err);

// Writes the split to dir (created with its parents if missing): RS/files: train.tsv, valid.tsv,
// test.tsv; paper: train.tsv, valid_tr.tsv, valid_te.tsv, test_tr.tsv, test_te.tsv (fold-in /
// hidden). TSV with the header `user_id<TAB>item_id`, raw tokens, each file written atomically.
ract_status ract_dataset_write_split(const ract_dataset* ds, const char* dir, ract_error* err);

// Users, items, interactions per part and density.
void ract_dataset_print_counts(FILE* f, const ract_dataset* ds);

// Interactions (distinct user-item pairs) of the dataset after filtering: train, valid and
// test pairs (paper split: the held-out users' fold-in and hidden pairs). The count
// ract_dataset_print_counts and the weight files' "n_interactions" report.
int64_t ract_dataset_interactions(const ract_dataset* ds);

// The whole training matrix's entries and fingerprint (ract_csr_hash), also when this
// process keeps only its part (counts.partial): what reports and checkpoints record.
int64_t ract_dataset_train_nnz(const ract_dataset* ds);
uint64_t ract_dataset_train_hash(const ract_dataset* ds);

void ract_eval_set_free(ract_eval_set* s);
void ract_dataset_free(ract_dataset* ds);

#endif  // RACT_DATA_DATASET_H_
