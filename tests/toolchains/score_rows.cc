#include "tests/toolchains/score_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fstream>
#include <sstream>

#include "ract/ract.h"

namespace {

std::string read_file(const char* path, std::string* bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string("cannot open ") + path;
  std::ostringstream s;
  s << in.rdbuf();
  *bytes = s.str();
  return "";
}

}  // namespace

std::string score_rows(const char* model_path, const char* histories, int k, ScoreRows* out) {
  std::string blob_bytes, hist;
  std::string e = read_file(model_path, &blob_bytes);
  if (e.empty()) e = read_file(histories, &hist);
  if (!e.empty()) return e;
  // ract_model_load wants 16-byte alignment; std::string's buffer need not have it.
  std::vector<uint64_t> blob((blob_bytes.size() + 7) / 8 + 1);
  memcpy(blob.data(), blob_bytes.data(), blob_bytes.size());

  ract_model m;
  ract_error err{};
  if (ract_model_load(&m, blob.data(), blob_bytes.size(), &err) != RACT_OK) {
    return std::string(model_path) + ": " + err.msg;
  }
  std::vector<uint8_t> arena(ract_scorer_arena_bytes(&m));
  ract_scorer s;
  if (ract_scorer_init(&s, &m, arena.data(), arena.size(), &err) != RACT_OK) return err.msg;

  out->items = ract_model_n_items(&m);
  out->k = k;
  out->users = 0;
  out->scores.clear();
  out->top.clear();
  std::istringstream lines(hist);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> toks;
    std::istringstream parts(line);
    std::string t;
    while (std::getline(parts, t, ',')) {
      if (!t.empty()) toks.push_back(t);
    }
    std::vector<const char*> ptrs;
    for (const std::string& x : toks) ptrs.push_back(x.c_str());
    if (ract_scorer_set_history_tokens(&s, ptrs.data(), (int)ptrs.size(), nullptr, &err) !=
        RACT_OK) {
      return err.msg;
    }
    size_t at = out->scores.size();
    out->scores.resize(at + out->items);
    if (ract_scorer_full_sort_predict(&s, out->scores.data() + at, &err) != RACT_OK) {
      return err.msg;
    }
    std::vector<int32_t> items(k);
    std::vector<float> vals(k);
    int n = 0;
    if (ract_scorer_topk(&s, k, 1, items.data(), vals.data(), &n, &err) != RACT_OK) {
      return err.msg;
    }
    if (n != k) return "fewer than k items to rank";
    out->top.insert(out->top.end(), items.begin(), items.end());
    out->users++;
  }
  return "";
}

std::string write_rows(const char* path, const ScoreRows& r) {
  FILE* f = fopen(path, "wb");
  if (f == nullptr) return std::string("cannot write ") + path;
  int32_t dims[3] = {r.users, r.items, r.k};
  bool ok = fwrite("RACTROWS", 1, 8, f) == 8 && fwrite(dims, sizeof(dims), 1, f) == 1 &&
            fwrite(r.scores.data(), sizeof(float), r.scores.size(), f) == r.scores.size() &&
            fwrite(r.top.data(), sizeof(int32_t), r.top.size(), f) == r.top.size();
  ok = fclose(f) == 0 && ok;
  return ok ? "" : std::string("cannot write ") + path;
}

std::string read_rows(const char* path, ScoreRows* r) {
  std::string bytes;
  std::string e = read_file(path, &bytes);
  if (!e.empty()) return e;
  int32_t dims[3];
  if (bytes.size() < 8 + sizeof(dims) || memcmp(bytes.data(), "RACTROWS", 8) != 0) {
    return std::string(path) + ": not a rows file";
  }
  memcpy(dims, bytes.data() + 8, sizeof(dims));
  r->users = dims[0];
  r->items = dims[1];
  r->k = dims[2];
  size_t ns = (size_t)r->users * r->items, nt = (size_t)r->users * r->k;
  if (dims[0] < 0 || dims[1] < 0 || dims[2] < 0 ||
      bytes.size() != 8 + sizeof(dims) + ns * sizeof(float) + nt * sizeof(int32_t)) {
    return std::string(path) + ": size does not match its dims";
  }
  r->scores.resize(ns);
  r->top.resize(nt);
  memcpy(r->scores.data(), bytes.data() + 8 + sizeof(dims), ns * sizeof(float));
  memcpy(r->top.data(), bytes.data() + 8 + sizeof(dims) + ns * sizeof(float), nt * sizeof(int32_t));
  return "";
}
