// Hand-written delimited-text parser: one pass over a buffer holding the whole file.
#include "ract/data/loader.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace {

constexpr int kMaxFields = 64;

struct Field {
  const char* p;
  size_t n;
};

struct Line {
  Field f[kMaxFields];
  int count;  // all fields, may exceed kMaxFields (only the first kMaxFields are stored)
};

inline void trim(Field* f) {
  while (f->n > 0 && (f->p[0] == ' ' || f->p[0] == '\r')) f->p++, f->n--;
  while (f->n > 0 && (f->p[f->n - 1] == ' ' || f->p[f->n - 1] == '\r')) f->n--;
  if (f->n >= 2 && f->p[0] == '"' && f->p[f->n - 1] == '"') f->p++, f->n -= 2;
}

// Splits [b, e) on sep (sep2 != 0: the two-character separator sep sep2, as "::").
void split_line(const char* b, const char* e, char sep, char sep2, Line* out) {
  int c = 0;
  const char* s = b;
  for (const char* p = b;; p++) {
    bool end = p == e;
    bool at_sep = !end && *p == sep && (sep2 == 0 || (p + 1 < e && p[1] == sep2));
    if (end || at_sep) {
      if (c < kMaxFields) {
        out->f[c].p = s;
        out->f[c].n = (size_t)(p - s);
        trim(&out->f[c]);
      }
      c++;
      if (end) break;
      if (sep2) p++;
      s = p + 1;
    }
  }
  out->count = c;
}

bool blank(const char* b, const char* e) {
  for (; b < e; b++)
    if (*b != ' ' && *b != '\t' && *b != '\r') return false;
  return true;
}

// A decimal number: [+-] digits [. digits] [(e|E) [+-] digits], or the same starting with '.'.
bool parse_number(const char* p, size_t n, double* out) {
  size_t i = 0;
  bool neg = false;
  if (i < n && (p[i] == '+' || p[i] == '-')) neg = p[i++] == '-';
  double v = 0;
  int digits = 0;
  while (i < n && p[i] >= '0' && p[i] <= '9') v = v * 10 + (p[i++] - '0'), digits++;
  if (i < n && p[i] == '.') {
    i++;
    double scale = 0.1;
    while (i < n && p[i] >= '0' && p[i] <= '9') v += (p[i++] - '0') * scale, scale *= 0.1, digits++;
  }
  if (digits == 0) return false;
  if (i < n && (p[i] == 'e' || p[i] == 'E')) {
    i++;
    bool eneg = false;
    if (i < n && (p[i] == '+' || p[i] == '-')) eneg = p[i++] == '-';
    int ex = 0, ed = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9' && ex < 10000) ex = ex * 10 + (p[i++] - '0'), ed++;
    if (ed == 0) return false;
    double m = 1;
    for (int k = 0; k < ex && k < 400; k++) m *= 10;
    v = eneg ? v / m : v * m;
  }
  if (i != n) return false;
  *out = neg ? -v : v;
  return true;
}

bool all_digits(const char* s) {
  if (!*s) return false;
  for (; *s; s++)
    if (!isdigit((unsigned char)*s)) return false;
  return true;
}

// Field name without a RecBole type suffix (`user_id:token` -> `user_id`).
size_t name_len(const Field& f) {
  for (size_t i = 0; i < f.n; i++)
    if (f.p[i] == ':') return i;
  return f.n;
}

bool name_is(const Field& f, const char* name, bool exact_case) {
  size_t n = strlen(name);
  size_t fl = name_len(f);
  if (fl != n && f.n != n) return false;
  size_t use = fl == n ? fl : f.n;
  return exact_case ? strncmp(f.p, name, use) == 0 : strncasecmp(f.p, name, use) == 0;
}

const char* const kUserNames[] = {"user_id", "userid", "user", "uid", NULL};
const char* const kItemNames[] = {"item_id", "itemid", "movieid", "movie_id", "item", "iid", NULL};
const char* const kRatingNames[] = {"rating", "ratings", "score", NULL};

int find_known(const Line& h, const char* const* names) {
  for (const char* const* n = names; *n; n++)
    for (int i = 0; i < h.count && i < kMaxFields; i++)
      if (name_is(h.f[i], *n, false)) return i;
  return -1;
}

bool line_has_known_name(const Line& h) {
  return find_known(h, kUserNames) >= 0 || find_known(h, kItemNames) >= 0 ||
         find_known(h, kRatingNames) >= 0;
}

// Resolves one column choice; -1 = absent (only allowed when `optional`).
ract_status resolve_col(const char* what, const char* spec, const char* const* names,
                        int default_pos, bool optional, const Line* header, bool by_position,
                        int ncols, const char* file, int* out, ract_error* err) {
  if (spec && strcmp(spec, "none") == 0 && optional) {
    *out = -1;
    return RACT_OK;
  }
  if (spec && all_digits(spec)) {
    long pos = strtol(spec, NULL, 10);
    if (pos >= ncols || pos >= kMaxFields)
      return ract_fail(err, RACT_ERR_PARSE,
                       "%s: %s column %ld requested but lines have %d "
                       "fields",
                       file, what, pos, ncols);
    *out = (int)pos;
    return RACT_OK;
  }
  if (spec) {
    if (!header)
      return ract_fail(err, RACT_ERR_PARSE,
                       "%s: %s column '%s' named but the file has no "
                       "header line (give a 0-based position)",
                       file, what, spec);
    for (int i = 0; i < header->count && i < kMaxFields; i++)
      if (name_is(header->f[i], spec, true)) {
        *out = i;
        return RACT_OK;
      }
    char cols[256] = "";
    size_t w = 0;
    for (int i = 0; i < header->count && i < kMaxFields && w + 2 < sizeof(cols); i++)
      w += (size_t)snprintf(cols + w, sizeof(cols) - w, "%s%.*s", i ? ", " : "",
                            (int)header->f[i].n, header->f[i].p);
    return ract_fail(err, RACT_ERR_PARSE, "%s:1: no %s column '%s' in the header (columns: %s)",
                     file, what, spec, cols);
  }
  if (header) {
    int i = find_known(*header, names);
    // A header naming no known column: fall back to the positions.
    if (i < 0 && by_position && default_pos < ncols) i = default_pos;
    if (i < 0 && !optional)
      return ract_fail(err, RACT_ERR_PARSE,
                       "%s:1: no %s column in the header (expected one "
                       "of %s, %s, ...; choose it by name or position)",
                       file, what, names[0], names[1]);
    *out = i;
    return RACT_OK;
  }
  if (default_pos >= ncols) {
    if (optional) {
      *out = -1;
      return RACT_OK;
    }
    return ract_fail(err, RACT_ERR_PARSE, "%s:1: %d field(s), need a %s column at position %d",
                     file, ncols, what, default_pos);
  }
  *out = default_pos;
  return RACT_OK;
}

ract_status grow(ract_inter* x, bool rating, ract_error* err) {
  int64_t cap = x->cap ? x->cap * 2 : 4096;
  int32_t* u = (int32_t*)realloc(x->user, (size_t)cap * sizeof(int32_t));
  if (u) x->user = u;
  int32_t* i = (int32_t*)realloc(x->item, (size_t)cap * sizeof(int32_t));
  if (i) x->item = i;
  float* r = NULL;
  if (rating) {
    r = (float*)realloc(x->rating, (size_t)cap * sizeof(float));
    if (r) x->rating = r;
  }
  if (!u || !i || (rating && !r))
    return ract_fail(err, RACT_ERR_NOMEM, "loader: cannot grow to %lld rows", (long long)cap);
  x->cap = cap;
  return RACT_OK;
}

const char* ends_with(const char* s, const char* suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0 ? s + n - m : NULL;
}

}  // namespace

const char* ract_format_name(ract_format f) {
  switch (f) {
    case RACT_FORMAT_AUTO:
      return "auto";
    case RACT_FORMAT_INTER:
      return "inter";
    case RACT_FORMAT_UDATA:
      return "udata";
    case RACT_FORMAT_DAT:
      return "dat";
    case RACT_FORMAT_CSV:
      return "csv";
    case RACT_FORMAT_TSV:
      return "tsv";
  }
  return "?";
}

ract_status ract_format_parse(const char* name, ract_format* out, ract_error* err) {
  for (int f = RACT_FORMAT_AUTO; f <= RACT_FORMAT_TSV; f++)
    if (name && strcmp(name, ract_format_name((ract_format)f)) == 0) {
      *out = (ract_format)f;
      return RACT_OK;
    }
  return ract_fail(err, RACT_ERR_ARG, "unknown format '%s' (auto, inter, udata, dat, csv, tsv)",
                   name ? name : "(null)");
}

ract_load_options ract_load_options_default(void) {
  ract_load_options o;
  memset(&o, 0, sizeof(o));
  o.format = RACT_FORMAT_AUTO;
  o.header = -1;
  return o;
}

void ract_inter_free(ract_inter* x) {
  if (!x) return;
  free(x->user);
  free(x->item);
  free(x->rating);
  memset(x, 0, sizeof(*x));
}

ract_status ract_load_buffer(ract_inter* out, ract_vocab* users, ract_vocab* items,
                             const char* name, const char* data, size_t len,
                             const ract_load_options* opt_in, ract_error* err) {
  memset(out, 0, sizeof(*out));
  ract_load_options opt = opt_in ? *opt_in : ract_load_options_default();
  const char* end = data + len;
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) data += 3;  // UTF-8 byte-order mark
  // First non-blank line.
  const char* p = data;
  int lineno = 0;
  const char* first_b = NULL;
  const char* first_e = NULL;
  int first_lineno = 0;
  while (p < end) {
    const char* nl = (const char*)memchr(p, '\n', (size_t)(end - p));
    const char* e = nl ? nl : end;
    lineno++;
    if (!blank(p, e)) {
      first_b = p;
      first_e = e;
      first_lineno = lineno;
      break;
    }
    p = nl ? nl + 1 : end;
  }
  if (!first_b) return ract_fail(err, RACT_ERR_DATA, "%s: empty file (no interactions)", name);

  // Format.
  ract_format fmt = opt.format;
  if (fmt == RACT_FORMAT_AUTO) {
    bool has_tab = memchr(first_b, '\t', (size_t)(first_e - first_b)) != NULL;
    bool typed = false, dcolon = false;
    for (const char* q = first_b; q + 1 < first_e; q++) {
      if (q[0] == ':' && q[1] == ':') dcolon = true;
    }
    if (has_tab) {
      Line l;
      split_line(first_b, first_e, '\t', 0, &l);
      for (int i = 0; i < l.count && i < kMaxFields; i++)
        if (name_len(l.f[i]) < l.f[i].n) typed = true;
    }
    if (ends_with(name, ".inter") || typed) {
      fmt = RACT_FORMAT_INTER;
    } else if (dcolon) {
      fmt = RACT_FORMAT_DAT;
    } else if (has_tab) {
      fmt = RACT_FORMAT_TSV;
    } else if (memchr(first_b, ',', (size_t)(first_e - first_b))) {
      fmt = RACT_FORMAT_CSV;
    } else {
      return ract_fail(err, RACT_ERR_PARSE,
                       "%s:%d: cannot detect the format (no tab, comma or "
                       "'::' separator); name it (inter, udata, dat, csv, tsv)",
                       name, first_lineno);
    }
  }
  out->format = fmt;
  char sep = '\t', sep2 = 0;
  if (fmt == RACT_FORMAT_DAT) sep = ':', sep2 = ':';
  if (fmt == RACT_FORMAT_CSV) sep = ',';

  Line first;
  split_line(first_b, first_e, sep, sep2, &first);
  int ncols = first.count;

  // Header.
  bool header;
  if (fmt == RACT_FORMAT_INTER) {
    header = true;
  } else if (fmt == RACT_FORMAT_UDATA || fmt == RACT_FORMAT_DAT) {
    header = false;
  } else if (opt.header >= 0) {
    header = opt.header != 0;
  } else {
    header = line_has_known_name(first);
    if (!header && ncols >= 3 && !(opt.rating_col && strcmp(opt.rating_col, "none") == 0)) {
      int rc = 2;
      if (opt.rating_col && all_digits(opt.rating_col)) rc = atoi(opt.rating_col);
      double v;
      if (rc < ncols && rc < kMaxFields && !parse_number(first.f[rc].p, first.f[rc].n, &v))
        header = true;
    }
    if (!header && ((opt.user_col && !all_digits(opt.user_col)) ||
                    (opt.item_col && !all_digits(opt.item_col))))
      header = true;  // columns chosen by name: the first line must name them
  }
  const Line* hdr = header ? &first : NULL;
  bool by_position = fmt != RACT_FORMAT_INTER && hdr && !line_has_known_name(first);

  int uc, ic, rc;
  RACT_CHECK(resolve_col("user", opt.user_col, kUserNames, 0, false, hdr, by_position, ncols, name,
                         &uc, err));
  RACT_CHECK(resolve_col("item", opt.item_col, kItemNames, 1, false, hdr, by_position, ncols, name,
                         &ic, err));
  RACT_CHECK(resolve_col("rating", opt.rating_col, kRatingNames, 2, true, hdr, by_position, ncols,
                         name, &rc, err));
  if (uc == ic)
    return ract_fail(err, RACT_ERR_ARG, "%s: user and item columns are both column %d", name, uc);
  bool want_rating = rc >= 0;

  // Rows.
  p = header ? (first_e < end ? first_e + 1 : end) : first_b;
  lineno = header ? first_lineno : first_lineno - 1;
  Line l;
  ract_status s = RACT_OK;
  while (p < end) {
    const char* nl = (const char*)memchr(p, '\n', (size_t)(end - p));
    const char* e = nl ? nl : end;
    lineno++;
    const char* b = p;
    p = nl ? nl + 1 : end;
    if (blank(b, e)) continue;
    split_line(b, e, sep, sep2, &l);
    if (l.count != ncols) {
      s = ract_fail(err, RACT_ERR_PARSE, "%s:%d: %d field(s), expected %d as on line %d", name,
                    lineno, l.count, ncols, first_lineno);
      break;
    }
    if (l.f[uc].n == 0 || l.f[ic].n == 0) {
      s = ract_fail(err, RACT_ERR_PARSE, "%s:%d: empty %s id", name, lineno,
                    l.f[uc].n == 0 ? "user" : "item");
      break;
    }
    if (memchr(l.f[uc].p, 0, l.f[uc].n) || memchr(l.f[ic].p, 0, l.f[ic].n)) {
      s = ract_fail(err, RACT_ERR_PARSE, "%s:%d: NUL byte in the %s id (a binary file?)", name,
                    lineno, memchr(l.f[uc].p, 0, l.f[uc].n) ? "user" : "item");
      break;
    }
    float r = 0;
    if (want_rating) {
      double v;
      if (!parse_number(l.f[rc].p, l.f[rc].n, &v)) {
        s = ract_fail(err, RACT_ERR_PARSE, "%s:%d: rating '%.*s' is not a number", name, lineno,
                      (int)(l.f[rc].n > 40 ? 40 : l.f[rc].n), l.f[rc].p);
        break;
      }
      r = (float)v;
    }
    if (out->n == out->cap && (s = grow(out, want_rating, err)) != RACT_OK) break;
    int32_t u, it;
    if ((s = ract_vocab_add(users, l.f[uc].p, l.f[uc].n, &u, err)) != RACT_OK) break;
    if ((s = ract_vocab_add(items, l.f[ic].p, l.f[ic].n, &it, err)) != RACT_OK) break;
    out->user[out->n] = u;
    out->item[out->n] = it;
    if (want_rating) out->rating[out->n] = r;
    out->n++;
  }
  if (s == RACT_OK && out->n == 0)
    s = ract_fail(err, RACT_ERR_DATA, "%s: no interactions (only a header line)", name);
  if (s != RACT_OK) {
    ract_format f = out->format;
    ract_inter_free(out);
    out->format = f;
    return s;
  }
  return RACT_OK;
}

ract_status ract_load_file(ract_inter* out, ract_vocab* users, ract_vocab* items, const char* path,
                           const ract_load_options* opt, ract_error* err) {
  memset(out, 0, sizeof(*out));
  FILE* f = fopen(path, "rb");
  if (!f) return ract_fail(err, RACT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  char* buf = NULL;
  size_t len = 0;
  if (fseek(f, 0, SEEK_END) == 0) {
    long sz = ftell(f);
    if (sz >= 0 && fseek(f, 0, SEEK_SET) == 0) {
      buf = (char*)malloc((size_t)sz + 1);
      if (!buf) {
        fclose(f);
        return ract_fail(err, RACT_ERR_NOMEM, "%s: cannot allocate %ld bytes", path, sz);
      }
      len = fread(buf, 1, (size_t)sz, f);
      if (len != (size_t)sz) {
        free(buf);
        fclose(f);
        return ract_fail(err, RACT_ERR_IO, "%s: short read", path);
      }
    }
  }
  if (!buf) {  // not seekable (a pipe): read in chunks
    size_t cap = 1 << 20;
    buf = (char*)malloc(cap);
    while (buf) {
      size_t got = fread(buf + len, 1, cap - len, f);
      len += got;
      if (got == 0) break;
      if (len == cap) {
        char* nb = (char*)realloc(buf, cap * 2);
        if (!nb) {
          free(buf);
          buf = NULL;
          break;
        }
        buf = nb;
        cap *= 2;
      }
    }
    if (!buf) {
      fclose(f);
      return ract_fail(err, RACT_ERR_NOMEM, "%s: cannot read", path);
    }
  }
  bool bad = ferror(f) != 0;
  fclose(f);
  if (bad) {
    free(buf);
    return ract_fail(err, RACT_ERR_IO, "%s: read error", path);
  }
  ract_status s = ract_load_buffer(out, users, items, path, buf, len, opt, err);
  free(buf);
  return s;
}
