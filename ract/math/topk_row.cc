// Top-K of whole score rows: threshold, filter, select (see topk_row.h).
#include "ract/math/topk_row.h"

#include <stdint.h>
#include <string.h>

#include <algorithm>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "ract/math/topk.h"

// ---- ract_topk_row: threshold, filter, select.
// A heap costs O(log k) per entry that beats the current K-th, and when the scores grow with
// the index (or k is large) most entries do. Instead: (1) the scores are dealt round-robin
// into m >= k lanes (m = k rounded up to 16) and each lane keeps its maximum; the smallest
// lane maximum t has at least m >= k scores >= t (the lane maxima themselves), so every
// entry of the top k is >= t. (2) One pass collects the entries >= t in index order (a few
// k of them for random scores; NaN never passes) as 64-bit keys that one integer compare
// orders by (score desc, index asc), exactly the heap's order (rank_key). (3) The first k
// keys in that order: a bucket sort over the survivors' value range (bucket_select), or
// nth_element and a sort where it cannot. Falls back to the heap when a lane maximum is NaN
// or more entries pass than the stack buffer holds.
namespace {

constexpr int kCap = 1024;  // survivors held on the stack

// (score, index) as one key that sorts ascending in rank order: the score's bits mapped to
// an unsigned order (descending, in the high word), the index (ascending) in the low word.
// -0 is made +0 first, as the float compare makes them equal; NaN never gets here.
inline uint64_t rank_key(float v, int i) {
  if (v == 0.0f) v = 0.0f;
  uint32_t u;
  memcpy(&u, &v, sizeof(u));
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);  // ascending with v
  return ((uint64_t)~u << 32) | (uint32_t)i;
}

int heap_row(const float* scores, int n, int k, int* idx, float* val, float t, int filter) {
  ract_topk h;
  ract_topk_init(&h, k, idx, val);
  for (int i = 0; i < n; i++) {
    if (!filter || scores[i] >= t) ract_topk_push(&h, i, scores[i]);
  }
  return ract_topk_finish(&h);
}

// Smallest lane maximum over m lanes (m a multiple of 16, n >= m), and the largest into
// *top (the row's maximum); NaN if a lane's first entry is NaN (that lane then never
// updates: the caller falls back).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
float lane_threshold(const float* s, int n, int m, float* top) {
  float acc[kCap];
  if (m < 1 || m > kCap || n < m) return __builtin_nanf("");
  for (int j = 0; j < m; j++) acc[j] = s[j];
  int i = m;
  for (; i + m <= n; i += m) {
    for (int j = 0; j < m; j++) acc[j] = s[i + j] > acc[j] ? s[i + j] : acc[j];
  }
  for (int j = 0; i + j < n; j++) acc[j] = s[i + j] > acc[j] ? s[i + j] : acc[j];
  float t = acc[0], mx = acc[0];
  for (int j = 0; j < m; j++) {
    if (acc[j] != acc[j]) return acc[j];
    t = acc[j] < t ? acc[j] : t;
    mx = acc[j] > mx ? acc[j] : mx;
  }
  *top = mx;
  return t;
}

// Keys of the entries >= t into buf (at most kCap); returns their count, or -1 if more.
int collect_plain(const float* s, int n, float t, uint64_t* buf) {
  int c = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] >= t) {
      if (c == kCap) return -1;
      buf[c++] = rank_key(s[i], i);
    }
  }
  return c;
}

#if defined(__x86_64__) && defined(__GNUC__)
// The same with AVX-512: 16 compares, and a compress store when any pass.
__attribute__((target("avx512f"))) int collect_avx512(const float* s, int n, float t,
                                                      uint64_t* buf) {
  float v[kCap + 16];
  int ix[kCap + 16];
  int c = 0, i = 0;
  const __m512 tv = _mm512_set1_ps(t);
  __m512i iv = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i step = _mm512_set1_epi32(16);
  for (; i + 16 <= n; i += 16) {
    const __m512 x = _mm512_loadu_ps(s + i);
    const __mmask16 mk = _mm512_cmp_ps_mask(x, tv, _CMP_GE_OQ);
    if (mk) {
      if (c + 16 > kCap + 16) return -1;
      _mm512_mask_compressstoreu_ps(v + c, mk, x);
      _mm512_mask_compressstoreu_epi32(ix + c, mk, iv);
      c += __builtin_popcount(mk);
      if (c > kCap) return -1;
    }
    iv = _mm512_add_epi32(iv, step);
  }
  for (; i < n; i++) {
    if (s[i] >= t) {
      if (c == kCap) return -1;
      v[c] = s[i];
      ix[c] = i;
      c++;
    }
  }
  for (int j = 0; j < c; j++) buf[j] = rank_key(v[j], ix[j]);
  return c;
}

int collect(const float* s, int n, float t, uint64_t* buf) {
  const int avx512 = __builtin_cpu_supports("avx512f");  // a load: no guarded static
  return avx512 ? collect_avx512(s, n, t, buf) : collect_plain(s, n, t, buf);
}
#else
int collect(const float* s, int n, float t, uint64_t* buf) { return collect_plain(s, n, t, buf); }
#endif

// The k first survivors in rank order into out, without comparison sorts: a counting sort
// into kBuckets ranges of [t, max] from the top down to the bucket that completes k, then an
// insertion sort by key inside each of those buckets. The bucket (int)((v - t) * scale) is
// non-decreasing in v (float subtraction, multiplication and truncation are monotonic), so
// buckets never cross the rank order, and equal scores share one. Returns 0 (the caller
// sorts) when the range is empty or not finite, so small that its scale overflows, or a
// needed bucket holds over 64 entries.
// t and mx: the smallest and largest survivor; out: room for kCap + 1 keys.
bool bucket_select(const float* s, const uint64_t* buf, int c, int k, float t, float mx,
                   uint64_t* out) {
  constexpr int kBuckets = 512, kMaxBucket = 64;
  const float range = mx - t;
  if (!(range > 0.0f) || !(range < __builtin_inff())) return false;
  const float scale = (float)(kBuckets - 1) / range;
  if (!(scale < __builtin_inff())) return false;  // a subnormal range: 0 * inf would be NaN
  uint16_t bucket[kCap];
  int count[kBuckets] = {0};
  for (int j = 0; j < c; j++) {
    int b = (int)((s[(uint32_t)buf[j]] - t) * scale);
    b = b < kBuckets - 1 ? b : kBuckets - 1;
    bucket[j] = (uint16_t)b;
    count[b]++;
  }
  int lo = kBuckets, held = 0;
  while (held < k) held += count[--lo];  // c >= k: stops at lo >= 0
  int start[kBuckets + 1];
  for (int b = kBuckets - 1, pos = 0; b >= lo; b--) {
    if (count[b] > kMaxBucket) return false;
    start[b] = pos;
    pos += count[b];
  }
  start[kBuckets] = kCap;  // the entries below bucket lo all go to out[kCap] (no branch)
  for (int j = 0; j < c; j++) {
    const int b = bucket[j] >= lo ? bucket[j] : kBuckets;
    out[start[b]] = buf[j];
    start[b] += b != kBuckets;
  }
  for (int b = kBuckets - 1; b >= lo; b--) {  // start[b] is now the end of bucket b
    for (int j = start[b] - count[b] + 1; j < start[b]; j++) {
      const uint64_t key = out[j];
      int i = j - 1;
      for (; i >= start[b] - count[b] && out[i] > key; i--) out[i + 1] = out[i];
      out[i + 1] = key;
    }
  }
  return true;
}

}  // namespace

int ract_topk_row(const float* scores, int n, int k, int* idx, float* val) {
  if (k > n) k = n;
  if (k <= 0) return 0;
  const int m = (k + 15) / 16 * 16;
  if (m > kCap / 2 || n < 4 * m) return heap_row(scores, n, k, idx, val, 0.0f, 0);
  float mx;
  const float t = lane_threshold(scores, n, m, &mx);
  if (t != t) return heap_row(scores, n, k, idx, val, 0.0f, 0);
  uint64_t buf[kCap];
  const int c = collect(scores, n, t, buf);
  if (c < 0) return heap_row(scores, n, k, idx, val, t, 1);
  // c >= m >= k: the lane maxima all pass.
  uint64_t sorted[kCap + 1];
  const uint64_t* top = sorted;
  if (!bucket_select(scores, buf, c, k, t, mx, sorted)) {
    std::nth_element(buf, buf + k - 1, buf + c);
    std::sort(buf, buf + k);
    top = buf;
  }
  for (int j = 0; j < k; j++) {
    idx[j] = (int)(uint32_t)top[j];
    val[j] = scores[idx[j]];
  }
  return k;
}
