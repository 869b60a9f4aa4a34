// Parameter and activation tables (table.h).
#include "ract/model/table.h"

#include <stdio.h>
#include <string.h>

#include "ract/math/ops.h"

namespace {

constexpr size_t kPad = 16;  // elements: 64 bytes of float
size_t pad(size_t n) { return (n + kPad - 1) / kPad * kPad; }

void set_field(void* owner, size_t field, void* p) { memcpy((char*)owner + field, &p, sizeof(p)); }

}  // namespace

void ract_table_param(ract_param_table* t, const char* name, int rows, int cols, size_t field) {
  if (t->n >= RACT_MAX_TENSORS) return;
  ract_param_info* e = &t->info[t->n];
  snprintf(e->name, sizeof(e->name), "%s", name);
  e->rows = rows;
  e->cols = cols;
  e->offset = t->total;
  t->field[t->n] = field;
  t->total += pad((size_t)rows * (size_t)cols);
  t->n++;
}

ract_param_info ract_table_info(const ract_param_table* t, int i) {
  ract_param_info none;
  memset(&none, 0, sizeof(none));
  return i >= 0 && i < t->n ? t->info[i] : none;
}

template <typename T>
ract_status ract_params_alloc(ract_params_t<T>* w, void* p, void* g, ract_arena* arena,
                              const char* what, ract_error* err) {
  const ract_param_table* t = &w->table;
  w->n = t->total;
  T** bufs[4] = {&w->params, &w->grads, &w->m, &w->v};
  for (T** b : bufs) {
    *b = (T*)ract_arena_alloc(arena, w->n * sizeof(T));
    if (!*b) return ract_arena_check(arena, what, err);
    ract_ops_zero(*b, w->n);
  }
  for (int i = 0; i < t->n; i++) {
    set_field(p, t->field[i], w->params + t->info[i].offset);
    set_field(g, t->field[i], w->grads + t->info[i].offset);
  }
  return RACT_OK;
}

template <typename T>
void ract_params_zero_grad(ract_params_t<T>* w) {
  ract_ops_zero(w->grads, w->n);
}

template <typename T>
void ract_params_zero_moments(ract_params_t<T>* w) {
  ract_ops_zero(w->m, w->n);
  ract_ops_zero(w->v, w->n);
}

void ract_table_slot(ract_slot_table* t, size_t field, size_t count, size_t elem, int zero) {
  if (t->n >= RACT_MAX_SLOTS) return;
  t->field[t->n] = field;
  t->count[t->n] = count;
  t->elem[t->n] = elem;
  t->zero[t->n] = (uint8_t)(zero != 0);
  t->n++;
}

size_t ract_table_slot_bytes(const ract_slot_table* t) {
  size_t s = 0;
  for (int i = 0; i < t->n; i++) s += ract_arena_round(t->count[i] * t->elem[i]);
  return s;
}

ract_status ract_table_alloc_slots(const ract_slot_table* t, void* owner, ract_arena* arena,
                                   const char* what, ract_error* err) {
  for (int i = 0; i < t->n; i++) {
    const size_t bytes = t->count[i] * t->elem[i];
    void* p = ract_arena_alloc(arena, bytes);
    if (p && t->zero[i]) {
      if (t->elem[i] == sizeof(double)) {
        ract_ops_zero((double*)p, t->count[i]);
      } else if (t->elem[i] == sizeof(float)) {
        ract_ops_zero((float*)p, t->count[i]);
      } else {
        memset(p, 0, bytes);
      }
    }
    set_field(owner, t->field[i], p);
  }
  return ract_arena_check(arena, what, err);
}

#define RACT_PARAMS_INSTANTIATE(T)                                                        \
  template ract_status ract_params_alloc<T>(ract_params_t<T>*, void*, void*, ract_arena*, \
                                            const char*, ract_error*);                    \
  template void ract_params_zero_grad<T>(ract_params_t<T>*);                              \
  template void ract_params_zero_moments<T>(ract_params_t<T>*);
RACT_PARAMS_INSTANTIATE(float)
RACT_PARAMS_INSTANTIATE(double)
