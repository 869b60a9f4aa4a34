// The single-process communicator (ract_comm_init_local): rank 0 of 1, every collective the
// identity, and the argument checks of the ract_comm_* entry points that every
// implementation shares.
#include "ract/dist/comm.h"

#include <doctest/doctest.h>
#include <string.h>

#include <string>
#include <vector>

TEST_CASE("comm local: rank 0 of 1 with the defaults") {
  ract_comm comm;
  memset(&comm, 0x5a, sizeof(comm));
  ract_error err;
  REQUIRE(ract_comm_init_local(&comm, &err) == RACT_OK);
  CHECK(comm.rank == 0);
  CHECK(comm.size == 1);
  CHECK(comm.timeout_s == RACT_COMM_DEFAULT_TIMEOUT_S);
  CHECK(comm.chunk_bytes == RACT_COMM_DEFAULT_CHUNK_BYTES);
  REQUIRE(comm.impl != nullptr);
  CHECK(std::string(comm.impl->name) == "local");
  CHECK(ract_comm_init_local(nullptr, &err) == RACT_ERR_ARG);
  CHECK(std::string(ract_status_name(RACT_ERR_COMM)) == "RACT_ERR_COMM");
}

TEST_CASE("comm local: every collective is the identity") {
  ract_comm comm;
  ract_error err;
  REQUIRE(ract_comm_init_local(&comm, &err) == RACT_OK);
  for (size_t n : {(size_t)1, (size_t)7, (size_t)100003}) {
    std::vector<float> f(n);
    std::vector<double> d(n);
    for (size_t i = 0; i < n; i++) {
      f[i] = 0.25f * (float)i - 3.0f;
      d[i] = 1e15 + (double)i;
    }
    std::vector<float> f0 = f;
    std::vector<double> d0 = d;
    CHECK(ract_comm_allreduce_sum_f32(&comm, f.data(), n, &err) == RACT_OK);
    CHECK(ract_comm_allreduce_sum_f64(&comm, d.data(), n, &err) == RACT_OK);
    CHECK(f == f0);
    CHECK(d == d0);
  }
  unsigned char bytes[13];
  for (int i = 0; i < 13; i++) bytes[i] = (unsigned char)(i * 31);
  CHECK(ract_comm_bcast(&comm, bytes, sizeof(bytes), 0, &err) == RACT_OK);
  for (int i = 0; i < 13; i++) CHECK(bytes[i] == (unsigned char)(i * 31));
  CHECK(ract_comm_barrier(&comm, &err) == RACT_OK);
  for (int v : {-5, 0, 1, 42}) {
    int x = v;
    CHECK(ract_comm_agree(&comm, &x, RACT_COMM_MAX, &err) == RACT_OK);
    CHECK(x == v);
    CHECK(ract_comm_agree(&comm, &x, RACT_COMM_MIN, &err) == RACT_OK);
    CHECK(x == v);
  }
  // Empty buffers need no pointer.
  CHECK(ract_comm_allreduce_sum_f32(&comm, nullptr, 0, &err) == RACT_OK);
  CHECK(ract_comm_allreduce_sum_f64(&comm, nullptr, 0, &err) == RACT_OK);
  CHECK(ract_comm_bcast(&comm, nullptr, 0, 0, &err) == RACT_OK);
  ract_comm_abort(&comm, 3, "the local communicator's abort returns");
  CHECK(ract_comm_finalize(&comm, &err) == RACT_OK);
  CHECK(comm.impl == nullptr);
}

TEST_CASE("comm local: bad arguments are RACT_ERR_ARG with a message") {
  ract_comm comm;
  ract_error err;
  REQUIRE(ract_comm_init_local(&comm, &err) == RACT_OK);
  float f = 1;
  int x = 0;
  auto refused = [&](ract_status s, const char* what) {
    CHECK(s == RACT_ERR_ARG);
    CHECK(err.status == RACT_ERR_ARG);
    CHECK(std::string(err.msg).find(what) != std::string::npos);
    err.msg[0] = '\0';
  };
  refused(ract_comm_allreduce_sum_f32(nullptr, &f, 1, &err), "comm is NULL");
  refused(ract_comm_allreduce_sum_f32(&comm, nullptr, 3, &err), "buffer is NULL with 3");
  refused(ract_comm_allreduce_sum_f64(&comm, nullptr, 2, &err), "buffer is NULL with 2");
  refused(ract_comm_bcast(&comm, nullptr, 5, 0, &err), "buffer is NULL");
  refused(ract_comm_bcast(&comm, &f, sizeof(f), 1, &err), "root 1 is not a rank of 0..0");
  refused(ract_comm_bcast(&comm, &f, sizeof(f), -1, &err), "root -1");
  refused(ract_comm_agree(&comm, nullptr, RACT_COMM_MAX, &err), "value is NULL");
  refused(ract_comm_agree(&comm, &x, (ract_comm_agree_op)7, &err), "unknown operation 7");
  comm.chunk_bytes = 4;
  refused(ract_comm_allreduce_sum_f32(&comm, &f, 1, &err), "chunk_bytes 4");
  comm.chunk_bytes = RACT_COMM_DEFAULT_CHUNK_BYTES;
  comm.timeout_s = 0;
  refused(ract_comm_barrier(&comm, &err), "timeout_s 0");
  comm.timeout_s = 1;
  CHECK(ract_comm_barrier(&comm, &err) == RACT_OK);
  REQUIRE(ract_comm_finalize(&comm, &err) == RACT_OK);
  // After finalize, and before any init, the communicator refuses every call.
  refused(ract_comm_barrier(&comm, &err), "not initialised");
  refused(ract_comm_finalize(&comm, &err), "not initialised");
  ract_comm zeroed;
  memset(&zeroed, 0, sizeof(zeroed));
  refused(ract_comm_allreduce_sum_f32(&zeroed, &f, 1, &err), "not initialised");
  ract_comm_abort(&zeroed, 1, "no-op on an uninitialised communicator");
  ract_comm_abort(nullptr, 1, "no-op on NULL");
}
