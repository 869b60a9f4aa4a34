// The ract_comm_* entry points (argument checks, then the implementation's table) and the
// local, single-process implementation. No MPI here: see comm_mpi.cc.
#include "ract/dist/comm.h"

#include <string.h>

namespace {

ract_status local_allreduce_f32(ract_comm*, float*, size_t, ract_error*) { return RACT_OK; }
ract_status local_allreduce_f64(ract_comm*, double*, size_t, ract_error*) { return RACT_OK; }
ract_status local_bcast(ract_comm*, void*, size_t, int, ract_error*) { return RACT_OK; }
ract_status local_barrier(ract_comm*, ract_error*) { return RACT_OK; }
ract_status local_agree(ract_comm*, int*, ract_comm_agree_op, ract_error*) { return RACT_OK; }
ract_status local_finalize(ract_comm*, ract_error*) { return RACT_OK; }
void local_abort(ract_comm*, int, const char*) {}

const ract_comm_impl kLocal = {
    "local",       local_allreduce_f32, local_allreduce_f64, local_bcast,
    local_barrier, local_agree,         local_finalize,      local_abort,
};

ract_status check_comm(const ract_comm* comm, const char* op, ract_error* err) {
  if (comm == nullptr) return ract_fail(err, RACT_ERR_ARG, "ract_comm_%s: comm is NULL", op);
  if (comm->impl == nullptr) {
    return ract_fail(err, RACT_ERR_ARG, "ract_comm_%s: the communicator is not initialised", op);
  }
  if (comm->chunk_bytes < 8) {
    return ract_fail(err, RACT_ERR_ARG, "ract_comm_%s: chunk_bytes %zu is below 8 bytes", op,
                     comm->chunk_bytes);
  }
  if (!(comm->timeout_s > 0)) {
    return ract_fail(err, RACT_ERR_ARG, "ract_comm_%s: timeout_s %g is not positive", op,
                     comm->timeout_s);
  }
  return RACT_OK;
}

ract_status check_buf(const void* buf, size_t n, const char* op, ract_error* err) {
  if (buf == nullptr && n > 0) {
    return ract_fail(err, RACT_ERR_ARG, "ract_comm_%s: buffer is NULL with %zu elements", op, n);
  }
  return RACT_OK;
}

}  // namespace

extern "C" {

ract_status ract_comm_init_local(ract_comm* comm, ract_error* err) {
  if (comm == nullptr) return ract_fail(err, RACT_ERR_ARG, "ract_comm_init_local: comm is NULL");
  memset(comm, 0, sizeof(*comm));
  comm->rank = 0;
  comm->size = 1;
  comm->timeout_s = RACT_COMM_DEFAULT_TIMEOUT_S;
  comm->chunk_bytes = RACT_COMM_DEFAULT_CHUNK_BYTES;
  comm->impl = &kLocal;
  return RACT_OK;
}

ract_status ract_comm_allreduce_sum_f32(ract_comm* comm, float* buf, size_t n, ract_error* err) {
  RACT_CHECK(check_comm(comm, "allreduce_sum_f32", err));
  RACT_CHECK(check_buf(buf, n, "allreduce_sum_f32", err));
  if (n == 0) return RACT_OK;
  return comm->impl->allreduce_f32(comm, buf, n, err);
}

ract_status ract_comm_allreduce_sum_f64(ract_comm* comm, double* buf, size_t n, ract_error* err) {
  RACT_CHECK(check_comm(comm, "allreduce_sum_f64", err));
  RACT_CHECK(check_buf(buf, n, "allreduce_sum_f64", err));
  if (n == 0) return RACT_OK;
  return comm->impl->allreduce_f64(comm, buf, n, err);
}

ract_status ract_comm_bcast(ract_comm* comm, void* buf, size_t bytes, int root, ract_error* err) {
  RACT_CHECK(check_comm(comm, "bcast", err));
  RACT_CHECK(check_buf(buf, bytes, "bcast", err));
  if (root < 0 || root >= comm->size) {
    return ract_fail(err, RACT_ERR_ARG, "ract_comm_bcast: root %d is not a rank of 0..%d", root,
                     comm->size - 1);
  }
  if (bytes == 0) return RACT_OK;
  return comm->impl->bcast(comm, buf, bytes, root, err);
}

ract_status ract_comm_barrier(ract_comm* comm, ract_error* err) {
  RACT_CHECK(check_comm(comm, "barrier", err));
  return comm->impl->barrier(comm, err);
}

ract_status ract_comm_agree(ract_comm* comm, int* value, ract_comm_agree_op op, ract_error* err) {
  RACT_CHECK(check_comm(comm, "agree", err));
  if (value == nullptr) return ract_fail(err, RACT_ERR_ARG, "ract_comm_agree: value is NULL");
  if (op != RACT_COMM_MIN && op != RACT_COMM_MAX) {
    return ract_fail(err, RACT_ERR_ARG, "ract_comm_agree: unknown operation %d", (int)op);
  }
  return comm->impl->agree(comm, value, op, err);
}

ract_status ract_comm_finalize(ract_comm* comm, ract_error* err) {
  RACT_CHECK(check_comm(comm, "finalize", err));
  ract_status s = comm->impl->finalize(comm, err);
  comm->impl = nullptr;
  return s;
}

void ract_comm_abort(ract_comm* comm, int exit_code, const char* why) {
  if (comm == nullptr || comm->impl == nullptr) return;
  comm->impl->abort(comm, exit_code, why);
}

}  // extern "C"
