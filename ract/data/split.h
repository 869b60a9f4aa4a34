// Train/valid/test splits, deterministic from a seed (ract_rng; the same seed gives the
// same split on every machine).
//
// RecBole's RS (weak generalisation): every user keeps rows in all three parts; per user
// the items are shuffled and cut by ratio with RecBole's _calcu_split_ids rule: valid and
// test get int(ratio * n) each (ratios normalised to sum 1), each at least 1 when
// 0 < ratio * n < 1 and train would keep more than one row, train takes the rest.
//
// The paper's strong generalisation (Liang et al.'s Mult-VAE protocol, used by RaCT):
// users are shuffled, the last N are test users, the N before them validation users, the
// rest train users; items that no train user has are dropped (the model width is the
// train users' items); each held-out user's items are shuffled and floor(f * n) of them
// hidden (the truth), the others are the model's fold-in input.
//
// Writing a split out: tab-separated files with the header `user_id<TAB>item_id` and raw
// tokens, each written to a temporary file in the target folder and then renamed.
#ifndef RACT_DATA_SPLIT_H_
#define RACT_DATA_SPLIT_H_

#include <stdint.h>

#include "ract/core/status.h"
#include "ract/data/csr.h"
#include "ract/data/vocab.h"

// RecBole's per-user part sizes for a user with n rows: cnt = {train, valid, test}.
void ract_split_ratio_counts(int n, const double ratio[3], int cnt[3]);

// Splits every row of `all` (users x items) into train, valid and test (same shape).
ract_status ract_split_ratio(ract_csr* train, ract_csr* valid, ract_csr* test, const ract_csr* all,
                             const double ratio[3], uint64_t seed, ract_error* err);

// Picks held-out users among n_users: *valid_users and *test_users get n_valid / n_test
// user ids and *train_users the other ones, each list sorted ascending (malloc'ed).
ract_status ract_split_pick_users(int32_t** train_users, int* n_train, int32_t** valid_users,
                                  int32_t** test_users, int n_users, int n_valid, int n_test,
                                  uint64_t seed, ract_error* err);

// Splits each row into fold-in (input) and hidden (truth) parts: floor(fraction * n) hidden.
// `stream` separates the validation and test draws of one seed.
ract_status ract_split_holdout(ract_csr* foldin, ract_csr* hidden, const ract_csr* rows,
                               double fraction, uint64_t seed, uint64_t stream, ract_error* err);

// Writes `path` atomically (temporary file in the same folder, then rename): a header line
// `user_id<TAB>item_id`, then one line per entry of m, row r's user token being
// users_vocab[row_users ? row_users[r] : r].
ract_status ract_split_write_tsv(const char* path, const ract_csr* m, const int32_t* row_users,
                                 const ract_vocab* users, const ract_vocab* items, ract_error* err);

#endif  // RACT_DATA_SPLIT_H_
