// Test fixture: a random actor with the tensors of ract/deploy/FORMAT.md, written to aligned
// buffers, and a plain-loop reference forward (double accumulators) written from the
// layout, independent of the scorer's kernels.
#ifndef TESTS_DEPLOY_FIXTURE_H_
#define TESTS_DEPLOY_FIXTURE_H_

#include <stdint.h>
#include <stdlib.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ract/deploy/model_file.h"
#include "ract/deploy/model_file_write.h"

namespace fixture {

// A buffer aligned to 64 bytes, exactly `size` bytes long as far as ASan is concerned.
struct Blob {
  std::unique_ptr<uint8_t, void (*)(void*)> mem{nullptr, free};
  size_t size = 0;
  uint8_t* data() const { return mem.get(); }
  static Blob make(size_t n);
  Blob copy() const;
  Blob prefix(size_t n) const;
};

struct Model {
  ract_file_dims dims{};
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> shapes;
  std::vector<std::vector<float>> values;
  std::vector<std::string> tokens;
  std::vector<std::pair<std::string, std::string>> meta;
  std::string state;  // checkpoints only

  // Storage behind desc().
  std::vector<ract_file_tensor> tensors_;
  std::vector<const char*> token_ptrs_;
  std::vector<ract_file_kv> meta_;

  void add(const std::string& name, std::vector<int64_t> shape, std::vector<float> v);
  const std::vector<float>& get(const std::string& name) const;
  ract_file_desc desc(int kind);
};

// Random actor. kind = inference (mu.*) or checkpoint (enc.head.*, plus Adam moments, critic
// BatchNorm state and a state blob). Tokens are "t<3i+1>"-like strings unless numeric.
Model make_model(int n_items, std::vector<int> hidden, int latent, float input_scale, int kind,
                 uint64_t seed);

// Serialises with ract_file_write_buffer; REQUIREs success.
Blob write(Model& m, int kind, ract_file_dtype dtype);

// Weights by name: from the model's fp32 values, or dequantised from an open file.
using Weights = std::map<std::string, std::vector<float>>;
Weights weights_of(const Model& m);
Weights weights_of(const ract_file& f);

// Reference evaluation forward (ract/model/README.md, "Scoring") of an inference model's
// weights for a history of item indices (duplicates and out-of-range ignored), all I logits.
std::vector<double> reference_scores(const ract_file_dims& d, const Weights& w,
                                     const std::vector<int32_t>& history);

// Reference top-K: indices of the k best scores, history masked, ties by lower index.
std::vector<int32_t> reference_topk(const std::vector<double>& scores,
                                    const std::vector<int32_t>& history, int k);

}  // namespace fixture

#endif  // TESTS_DEPLOY_FIXTURE_H_
