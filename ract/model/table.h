// The tables that lay out a model's memory, as llm.c's `param_sizes` and `act_sizes` with
// `malloc_and_point`: ONE list per model drives both the byte count (what a *_bytes() query
// answers before anything exists) and the pointers (what *_create fills in), so the two can
// never disagree.
//
//   ract_param_table: the parameters in weight-file order. Each tensor has its file name, its
//     shape, an element offset into the model's four flat buffers (params, grads, Adam m, v;
//     every tensor starts on a 64-byte boundary) and the byte offset of the T* field that
//     names it in the model's struct of named pointers (ract_actor_tensors_t, ...).
//   ract_slot_table: the activations, one arena allocation per slot: the byte offset of the
//     slot's pointer field in the activations struct, the element count and size.
#ifndef RACT_MODEL_TABLE_H_
#define RACT_MODEL_TABLE_H_

#include <stddef.h>
#include <stdint.h>

#include "ract/core/arena.h"
#include "ract/core/status.h"

#define RACT_MAX_TENSORS 40
#define RACT_MAX_SLOTS 48

// One tensor of a parameter table.
typedef struct ract_param_info {
  char name[32];  // the weight-file name: "enc.0.w", "enc.head.b", "critic.1.w", ...
  int rows;       // a bias is rows = n, cols = 1
  int cols;
  size_t offset;  // in elements, from the start of each flat buffer
} ract_param_info;

typedef struct ract_param_table {
  int n;
  size_t total;  // elements of each flat buffer
  ract_param_info info[RACT_MAX_TENSORS];
  size_t field[RACT_MAX_TENSORS];  // byte offset of the tensor's T* in the named struct
} ract_param_table;

// Appends a tensor (the table starts zeroed). Names longer than 31 bytes are cut.
void ract_table_param(ract_param_table* t, const char* name, int rows, int cols, size_t field);
// Entry i, or a zeroed entry when i is out of range.
ract_param_info ract_table_info(const ract_param_table* t, int i);

// A model's parameter group: its table and the four flat buffers the table lays out (llm.c:
// params, grads and Adam's two moments, each `n` elements, tensors at the table's offsets).
template <typename T>
struct ract_params_t {
  ract_param_table table;
  size_t n;  // = table.total
  T* params;
  T* grads;
  T* m;
  T* v;
};

// The four buffers of w->table from the arena, zeroed, and the named pointers of `p` (into
// params) and `g` (into grads), structs of T* whose fields the table names.
template <typename T>
ract_status ract_params_alloc(ract_params_t<T>* w, void* p, void* g, ract_arena* arena,
                              const char* what, ract_error* err);
template <typename T>
void ract_params_zero_grad(ract_params_t<T>* w);
// A fresh optimizer: both moments zeroed.
template <typename T>
void ract_params_zero_moments(ract_params_t<T>* w);

typedef struct ract_slot_table {
  int n;
  size_t field[RACT_MAX_SLOTS];  // byte offset of the slot's pointer in the owner struct
  size_t count[RACT_MAX_SLOTS];  // elements
  size_t elem[RACT_MAX_SLOTS];   // bytes per element
  uint8_t zero[RACT_MAX_SLOTS];  // zero the slot when it is allocated
} ract_slot_table;

// Appends a slot of count elements of elem bytes.
void ract_table_slot(ract_slot_table* t, size_t field, size_t count, size_t elem, int zero);
// Arena bytes the slots take.
size_t ract_table_slot_bytes(const ract_slot_table* t);
// Allocates every slot from the arena into its field of `owner`.
ract_status ract_table_alloc_slots(const ract_slot_table* t, void* owner, ract_arena* arena,
                                   const char* what, ract_error* err);

#endif  // RACT_MODEL_TABLE_H_
