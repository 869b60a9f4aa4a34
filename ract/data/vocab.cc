// Open-addressing token table. The hash is FNV-1a folded through a 32-bit finaliser, which
// spreads the short decimal ids of MovieLens evenly over the table.
#include "ract/data/vocab.h"

#include <stdlib.h>
#include <string.h>

static inline uint32_t hash_bytes(const char* s, size_t len) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  return h;
}

void ract_vocab_init(ract_vocab* v) { memset(v, 0, sizeof(*v)); }

void ract_vocab_free(ract_vocab* v) {
  if (!v) return;
  free(v->pool);
  free(v->off);
  free(v->hash);
  free(v->table);
  memset(v, 0, sizeof(*v));
}

static int32_t lookup(const ract_vocab* v, const char* s, size_t len, uint32_t h, uint32_t* slot) {
  uint32_t mask = v->table_cap - 1;
  uint32_t i = h & mask;
  for (;;) {
    int32_t t = v->table[i];
    if (t < 0) {
      *slot = i;
      return -1;
    }
    if (v->hash[t] == h) {
      const char* tok = v->pool + v->off[t];
      if (memcmp(tok, s, len) == 0 && tok[len] == '\0') {
        *slot = i;
        return t;
      }
    }
    i = (i + 1) & mask;
  }
}

static ract_status grow_table(ract_vocab* v, ract_error* err) {
  uint32_t cap = v->table_cap ? v->table_cap * 2 : 1024;
  int32_t* t = (int32_t*)malloc((size_t)cap * sizeof(int32_t));
  if (!t) return ract_fail(err, RACT_ERR_NOMEM, "vocab: cannot grow to %u slots", cap);
  memset(t, 0xff, (size_t)cap * sizeof(int32_t));
  for (int k = 0; k < v->n; k++) {
    uint32_t i = v->hash[k] & (cap - 1);
    while (t[i] >= 0) i = (i + 1) & (cap - 1);
    t[i] = k;
  }
  free(v->table);
  v->table = t;
  v->table_cap = cap;
  return RACT_OK;
}

int32_t ract_vocab_find(const ract_vocab* v, const char* s, size_t len) {
  if (v->n == 0) return -1;
  uint32_t slot;
  return lookup(v, s, len, hash_bytes(s, len), &slot);
}

ract_status ract_vocab_add(ract_vocab* v, const char* s, size_t len, int32_t* id, ract_error* err) {
  // Tokens are stored NUL-terminated: one holding a NUL would alias its prefix.
  if (memchr(s, 0, len)) return ract_fail(err, RACT_ERR_ARG, "vocab: token holds a NUL byte");
  if (!v->table) RACT_CHECK(grow_table(v, err));
  uint32_t h = hash_bytes(s, len), slot;
  int32_t t = lookup(v, s, len, h, &slot);
  if (t >= 0) {
    *id = t;
    return RACT_OK;
  }
  if (v->n == 0x7fffffff) return ract_fail(err, RACT_ERR_DATA, "vocab: too many tokens");
  if (v->n >= v->cap) {
    int cap = v->cap ? v->cap * 2 : 1024;
    int64_t* off = (int64_t*)realloc(v->off, (size_t)cap * sizeof(int64_t));
    if (off) v->off = off;
    uint32_t* hs = (uint32_t*)realloc(v->hash, (size_t)cap * sizeof(uint32_t));
    if (hs) v->hash = hs;
    if (!off || !hs) return ract_fail(err, RACT_ERR_NOMEM, "vocab: cannot grow");
    v->cap = cap;
  }
  if (v->pool_len + len + 1 > v->pool_cap) {
    size_t cap = v->pool_cap ? v->pool_cap * 2 : 16384;
    while (cap < v->pool_len + len + 1) cap *= 2;
    char* p = (char*)realloc(v->pool, cap);
    if (!p) return ract_fail(err, RACT_ERR_NOMEM, "vocab: cannot grow the token pool");
    v->pool = p;
    v->pool_cap = cap;
  }
  int32_t k = v->n++;
  v->off[k] = (int64_t)v->pool_len;
  v->hash[k] = h;
  memcpy(v->pool + v->pool_len, s, len);
  v->pool[v->pool_len + len] = '\0';
  v->pool_len += len + 1;
  v->table[slot] = k;
  if ((uint32_t)v->n * 2 > v->table_cap) RACT_CHECK(grow_table(v, err));
  *id = k;
  return RACT_OK;
}

ract_status ract_vocab_subset(ract_vocab* out, const ract_vocab* src, const int32_t* order, int n,
                              ract_error* err) {
  ract_vocab tmp;
  ract_vocab_init(&tmp);
  for (int j = 0; j < n; j++) {
    if (order[j] < 0 || order[j] >= src->n) {
      ract_vocab_free(&tmp);
      return ract_fail(err, RACT_ERR_ARG, "vocab subset: index %d outside 0..%d", order[j],
                       src->n - 1);
    }
    const char* tok = ract_vocab_token(src, order[j]);
    int32_t id;
    ract_status s = ract_vocab_add(&tmp, tok, strlen(tok), &id, err);
    if (s != RACT_OK) {
      ract_vocab_free(&tmp);
      return s;
    }
  }
  *out = tmp;
  return RACT_OK;
}
