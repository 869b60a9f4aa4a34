// tools/score: top-K recommendations from a weight file, file inspection and conversion.
//
//   score --model F --history 1,50,172 [--k 10] [--no-mask]   top-K for one history
//   score --model F [--k 10] < histories.txt                   one history per stdin line
//   score --model F --info                                     header, metadata, tensors
//   score --model F --convert --dtype=int8 --out=G             re-encode (inference file or
//                                                              checkpoint -> inference file)
// History tokens are the app's item ids (the file's token table), separated by commas or
// spaces. Unknown ids are skipped and reported on stderr. Output: rank, item id, score.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/deploy/model_file.h"
#include "ract/ract.h"

namespace {

struct Args {
  std::string model, history, out, dtype = "fp32";
  bool has_history = false, info = false, convert = false, mask = true;
  int k = 10;
};

void usage() {
  fprintf(stderr,
          "usage: score --model F [--history 1,50,172 | < lines] [--k 10] [--no-mask]\n"
          "       score --model F --info\n"
          "       score --model F --convert --dtype=fp32|fp16|int8 --out=G\n");
}

// --name=value or --name value.
bool take(int argc, char** argv, int* i, const char* name, std::string* value) {
  size_t n = strlen(name);
  const char* a = argv[*i];
  if (strncmp(a, name, n) != 0) return false;
  if (a[n] == '=') {
    *value = a + n + 1;
    return true;
  }
  if (a[n] == '\0' && *i + 1 < argc) {
    *value = argv[++*i];
    return true;
  }
  return false;
}

bool parse(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; i++) {
    std::string v;
    if (take(argc, argv, &i, "--model", &v)) {
      a->model = v;
    } else if (take(argc, argv, &i, "--history", &v)) {
      a->history = v;
      a->has_history = true;
    } else if (take(argc, argv, &i, "--k", &v)) {
      char* end = nullptr;
      long k = strtol(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || k < 1 || k > 1000000) {
        fprintf(stderr, "score: --k must be a positive integer, got '%s'\n", v.c_str());
        return false;
      }
      a->k = (int)k;
    } else if (take(argc, argv, &i, "--out", &v)) {
      a->out = v;
    } else if (take(argc, argv, &i, "--dtype", &v)) {
      a->dtype = v;
    } else if (strcmp(argv[i], "--info") == 0) {
      a->info = true;
    } else if (strcmp(argv[i], "--convert") == 0) {
      a->convert = true;
    } else if (strcmp(argv[i], "--no-mask") == 0) {
      a->mask = false;
    } else {
      fprintf(stderr, "score: unknown or incomplete argument '%s'\n", argv[i]);
      return false;
    }
  }
  if (a->model.empty()) {
    fprintf(stderr, "score: --model is required\n");
    return false;
  }
  if (a->convert && a->out.empty()) {
    fprintf(stderr, "score: --convert needs --out\n");
    return false;
  }
  return true;
}

int fail(const ract_error& err) {
  fprintf(stderr, "score: %s (%s)\n", err.msg, ract_status_name(err.status));
  return 1;
}

std::string dims_str(const ract_file_tensor_view& t) {
  std::string s;
  for (int d = 0; d < t.n_dims; d++) {
    if (d) s += " x ";
    s += std::to_string((long long)t.dims[d]);
  }
  return s;
}

void print_info(const char* path, const ract_model_file& f) {
  const ract_model_dims& d = f.dims;
  printf("file:     %s\n", path);
  printf("format:   version %d, %zu bytes, crc32 %08x\n", f.version, f.size, f.crc);
  printf("kind:     %s\n", ract_model_file_kind_name(f.kind));
  printf("dtype:    %s\n", ract_model_file_dtype_name(f.dtype));
  printf("preset:   %s\n", ract_model_file_preset_name(d.preset));
  printf("dims:     n_items %d, hidden [", d.n_items);
  for (int j = 0; j < d.n_hidden; j++) printf("%s%d", j ? ", " : "", d.hidden[j]);
  printf("], latent %d, input scale %g\n", d.latent, (double)d.input_scale);
  printf("tokens:   %d (first: %s, last: %s)\n", d.n_items, ract_model_file_token(&f, 0),
         ract_model_file_token(&f, d.n_items - 1));
  printf("state:    %zu bytes\n", f.state_bytes);
  printf("metadata: %d\n", f.n_meta);
  for (int i = 0; i < f.n_meta; i++) {
    const char *k, *v;
    ract_model_file_meta_at(&f, i, &k, &v);
    printf("  %-24s %s\n", k, v);
  }
  printf("tensors:  %d\n", f.n_tensors);
  printf("  %-28s %-5s %-18s %12s %12s\n", "name", "dtype", "dims", "offset", "bytes");
  for (int i = 0; i < f.n_tensors; i++) {
    ract_file_tensor_view t;
    ract_model_file_tensor_at(&f, i, &t, nullptr);
    printf("  %-28s %-5s %-18s %12llu %12llu\n", t.name, ract_model_file_dtype_name(t.dtype),
           dims_str(t).c_str(), (unsigned long long)t.offset, (unsigned long long)t.bytes);
  }
}

std::vector<std::string> split_tokens(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

int score_line(ract_scorer* s, const ract_model* m, const std::string& line, const Args& a,
               int user) {
  std::vector<std::string> toks = split_tokens(line);
  std::vector<const char*> ptrs;
  for (auto& t : toks) ptrs.push_back(t.c_str());
  int unknown = 0;
  ract_error err{};
  if (ract_scorer_set_history_tokens(s, ptrs.data(), (int)ptrs.size(), &unknown, &err) != RACT_OK) {
    return fail(err);
  }
  if (unknown > 0) {
    std::string list;
    for (auto& t : toks) {
      if (ract_model_item_index(m, t.c_str()) < 0) list += (list.empty() ? "" : " ") + t;
    }
    fprintf(stderr, "score: %d unknown item id(s) skipped: %s\n", unknown, list.c_str());
  }
  std::vector<int32_t> items(a.k);
  std::vector<float> scores(a.k);
  int n = 0;
  if (ract_scorer_topk(s, a.k, a.mask, items.data(), scores.data(), &n, &err) != RACT_OK) {
    return fail(err);
  }
  for (int j = 0; j < n; j++) {
    if (user >= 0) printf("%d\t", user);
    printf("%d\t%s\t%.6f\n", j + 1, ract_model_item_token(m, items[j]), (double)scores[j]);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse(argc, argv, &a)) {
    usage();
    return 2;
  }
  ract_error err{};
  void* blob = nullptr;
  size_t len = 0;
  if (ract_model_file_read(a.model.c_str(), &blob, &len, &err) != RACT_OK) return fail(err);
  int rc = 0;
  ract_model_file f;
  if (a.info || a.convert) {
    if (ract_model_file_open(&f, blob, len, &err) != RACT_OK) {
      rc = fail(err);
    } else if (a.info) {
      print_info(a.model.c_str(), f);
    } else {
      ract_file_dtype dt;
      if (ract_model_file_parse_dtype(a.dtype.c_str(), &dt, &err) != RACT_OK ||
          ract_model_file_convert(a.out.c_str(), &f, dt, &err) != RACT_OK) {
        rc = fail(err);
      } else {
        void* out = nullptr;
        size_t out_len = 0;
        if (ract_model_file_read(a.out.c_str(), &out, &out_len, &err) != RACT_OK) {
          rc = fail(err);
        } else {
          fprintf(stderr, "score: wrote %s: %s inference file, %zu bytes (%.1f%% of %zu)\n",
                  a.out.c_str(), a.dtype.c_str(), out_len, 100.0 * out_len / len, len);
        }
        free(out);
      }
    }
    free(blob);
    return rc;
  }

  ract_model model;
  if (ract_model_load(&model, blob, len, &err) != RACT_OK) {
    free(blob);
    return fail(err);
  }
  std::vector<uint8_t> arena(ract_scorer_arena_bytes(&model));
  ract_scorer scorer;
  if (ract_scorer_init(&scorer, &model, arena.data(), arena.size(), &err) != RACT_OK) {
    rc = fail(err);
  } else if (a.has_history) {
    rc = score_line(&scorer, &model, a.history, a, -1);
  } else {
    // One history per line; with several lines, each output line starts with the line number.
    std::vector<std::string> lines;
    char buf[1 << 16];
    std::string cur;
    while (fgets(buf, sizeof(buf), stdin) != nullptr) {
      cur += buf;
      if (!cur.empty() && cur.back() == '\n') {
        lines.push_back(cur);
        cur.clear();
      }
    }
    if (!cur.empty()) lines.push_back(cur);
    for (size_t i = 0; i < lines.size() && rc == 0; i++) {
      rc = score_line(&scorer, &model, lines[i], a, lines.size() > 1 ? (int)i + 1 : -1);
    }
  }
  free(blob);
  return rc;
}
