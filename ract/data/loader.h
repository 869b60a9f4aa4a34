// Interaction file loaders: RecBole atomic `.inter` files (typed header
// `user_id:token<TAB>item_id:token<TAB>rating:float...`), MovieLens `u.data` (tab, no
// header) and `ratings.dat` (`::`), and CSV/TSV with or without a header, columns chosen by
// name or 0-based position (pre-split `user_id<TAB>item_id` files are TSV with a header).
//
// The whole file is read into memory and parsed by hand (one pass, no iostreams): ml-1m's
// 1,000,209 rows load in a few tens of milliseconds. Raw user/item tokens go through the
// caller's vocabularies (shared by train/valid/test files), so dense indices follow first
// appearance across the files in the order they are loaded.
//
// Every error names the file and line: missing column, empty id, non-numeric rating, a row
// with another number of fields than the first line (ragged), an empty file.
#ifndef RACT_DATA_LOADER_H_
#define RACT_DATA_LOADER_H_

#include <stdint.h>

#include "ract/core/status.h"
#include "ract/data/vocab.h"

typedef enum ract_format {
  RACT_FORMAT_AUTO = 0,  // from the name and the first line
  RACT_FORMAT_INTER,     // RecBole atomic file: tab, typed header
  RACT_FORMAT_UDATA,     // MovieLens u.data: tab, no header, user item rating time
  RACT_FORMAT_DAT,       // MovieLens ratings.dat: `::`, no header, user item rating time
  RACT_FORMAT_CSV,       // comma, header optional
  RACT_FORMAT_TSV,       // tab, header optional
} ract_format;

// "auto", "inter", "udata", "dat", "csv", "tsv".
const char* ract_format_name(ract_format f);
ract_status ract_format_parse(const char* name, ract_format* out, ract_error* err);

typedef struct ract_load_options {
  ract_format format;
  // Column of the user / item / rating: a header name ("userId"; for .inter files the part
  // before ':' matches too) or a 0-based position ("0"). NULL picks the default: by name
  // (user_id, userId, user, uid / item_id, itemId, movieId, item, iid / rating, ratings,
  // score) when there is a header, else positions 0, 1 and 2 (rating only when the file
  // has 3 or more columns). rating_col "none" ignores any rating column.
  const char* user_col;
  const char* item_col;
  const char* rating_col;
  // CSV/TSV header: -1 auto (a header if the first line names a known column or its rating
  // field is not a number), 0 no header, 1 header.
  int header;
} ract_load_options;

// Defaults: format auto, default columns, header auto.
ract_load_options ract_load_options_default(void);

// One file's interactions, in file order, as dense user/item indices.
typedef struct ract_inter {
  int64_t n;
  int64_t cap;
  int32_t* user;
  int32_t* item;
  float* rating;       // n ratings, or NULL when no rating column was read
  ract_format format;  // the format used (auto resolved)
} ract_inter;

// Loads `path`, adding its tokens to `users` and `items`. `out` is overwritten (pass a
// zeroed or freed struct).
ract_status ract_load_file(ract_inter* out, ract_vocab* users, ract_vocab* items, const char* path,
                           const ract_load_options* opt, ract_error* err);

// Same from a buffer in memory (`name` is used in messages).
ract_status ract_load_buffer(ract_inter* out, ract_vocab* users, ract_vocab* items,
                             const char* name, const char* data, size_t len,
                             const ract_load_options* opt, ract_error* err);

void ract_inter_free(ract_inter* x);

#endif  // RACT_DATA_LOADER_H_
