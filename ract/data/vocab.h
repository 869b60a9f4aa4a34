// Raw token <-> dense index for users and items, so that every output can speak the
// user's own ids. Tokens are byte strings (MovieLens ids, hashes, emails); dense indices
// are 0..n-1 in order of first insertion. Lookup is an open-addressing hash table
// (linear probing, power-of-two capacity, load <= 1/2) over a pool of NUL-terminated
// tokens. All arrays are malloc'ed; ract_vocab_free releases them.
#ifndef RACT_DATA_VOCAB_H_
#define RACT_DATA_VOCAB_H_

#include <stddef.h>
#include <stdint.h>

#include "ract/core/status.h"

typedef struct ract_vocab {
  int n;            // tokens held
  int cap;          // slots in off (tokens before a grow)
  char* pool;       // tokens, each followed by '\0'
  size_t pool_len;  // bytes used in pool
  size_t pool_cap;
  int64_t* off;    // off[i]: start of token i in pool
  uint32_t* hash;  // hash of token i
  int32_t* table;  // table_cap slots: -1 empty, else a token index
  uint32_t table_cap;
} ract_vocab;

// Initialises an empty vocabulary (no allocation until the first add).
void ract_vocab_init(ract_vocab* v);
void ract_vocab_free(ract_vocab* v);

// Index of the token s[0..len), inserting it if new. *id receives the index.
ract_status ract_vocab_add(ract_vocab* v, const char* s, size_t len, int32_t* id, ract_error* err);
// Index of the token, or -1.
int32_t ract_vocab_find(const ract_vocab* v, const char* s, size_t len);
// The token of index i (NUL-terminated), 0 <= i < n.
static inline const char* ract_vocab_token(const ract_vocab* v, int32_t i) {
  return v->pool + v->off[i];
}

// out = the tokens of src whose old index is in order[0..n) (in that order), so that
// out's index j is src's index order[j]. `out` is overwritten (pass an initialised or
// freed vocabulary).
ract_status ract_vocab_subset(ract_vocab* out, const ract_vocab* src, const int32_t* order, int n,
                              ract_error* err);

#endif  // RACT_DATA_VOCAB_H_
