// Writes the seed corpus of the model_file fuzz target: tiny valid weight files (10 items,
// hidden [4], latent 2) as inference files in fp32, fp16 and int8 and as a checkpoint,
// each behind the fuzz target's flag byte (bit 0 set: the target re-computes the CRC).
//   bazel run //tools/fuzz:make_model_seeds -- $PWD/tools/fuzz/corpus/model_file
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/deploy/model_file.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_model_seeds DIR\n");
    return 2;
  }
  ract_file_dims dims;
  memset(&dims, 0, sizeof(dims));
  dims.n_items = 10;
  dims.latent = 2;
  dims.n_hidden = 1;
  dims.hidden[0] = 4;
  dims.preset = RACT_PRESET_PAPER;
  dims.input_scale = 1.0f;
  const char* tokens[10] = {"1", "2", "3", "5", "8", "13", "21", "34", "55", "89"};
  ract_file_kv meta[2] = {{"dataset", "seed"}, {"epochs", "1"}};
  const unsigned char state[8] = {1, 2, 3, 4, 5, 6, 7, 8};

  struct Seed {
    const char* name;
    int kind;
    ract_file_dtype dtype;
  } seeds[] = {{"inference_fp32", RACT_FILE_INFERENCE, RACT_FILE_F32},
               {"inference_fp16", RACT_FILE_INFERENCE, RACT_FILE_F16},
               {"inference_int8", RACT_FILE_INFERENCE, RACT_FILE_I8},
               {"checkpoint", RACT_FILE_CHECKPOINT, RACT_FILE_F32}};
  for (const Seed& s : seeds) {
    ract_file_required req[RACT_FILE_MAX_REQUIRED];
    int n = ract_file_required_of(&dims, s.kind, req);
    std::vector<std::vector<float>> values(n);
    std::vector<ract_file_tensor> tensors(n);
    for (int i = 0; i < n; i++) {
      int64_t count = req[i].dims[0] * (req[i].n_dims > 1 ? req[i].dims[1] : 1);
      values[i].resize(count);
      for (int64_t j = 0; j < count; j++) values[i][j] = 0.1f * (float)((i * 7 + j * 3) % 11 - 5);
      tensors[i].name = req[i].name;
      tensors[i].n_dims = req[i].n_dims;
      memset(tensors[i].dims, 0, sizeof(tensors[i].dims));
      tensors[i].dims[0] = req[i].dims[0];
      tensors[i].dims[1] = req[i].dims[1];
      tensors[i].data = values[i].data();
    }
    ract_file_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = s.kind;
    d.dims = dims;
    d.tensors = tensors.data();
    d.n_tensors = n;
    d.tokens = tokens;
    d.meta = meta;
    d.n_meta = 2;
    if (s.kind == RACT_FILE_CHECKPOINT) {
      d.state = state;
      d.state_bytes = sizeof(state);
    }
    ract_error err;
    size_t bytes = 0, written = 0;
    if (ract_file_bytes(&d, s.dtype, &bytes, &err) != RACT_OK) {
      fprintf(stderr, "%s: %s\n", s.name, err.msg);
      return 1;
    }
    std::vector<uint64_t> file(bytes / 8 + 2);  // 16-byte aligned, as the writer asks
    if (ract_file_write_buffer(file.data(), bytes, &d, s.dtype, &written, &err) != RACT_OK) {
      fprintf(stderr, "%s: %s\n", s.name, err.msg);
      return 1;
    }
    std::vector<unsigned char> buf(written + 1);
    buf[0] = 1;  // the fuzz target's flags: fix the CRC after mutation
    memcpy(buf.data() + 1, file.data(), written);
    std::string path = std::string(argv[1]) + "/" + s.name;
    FILE* f = fopen(path.c_str(), "wb");
    if (f == nullptr || fwrite(buf.data(), 1, written + 1, f) != written + 1 || fclose(f) != 0) {
      fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
    printf("%s: %zu bytes\n", path.c_str(), written + 1);
  }
  return 0;
}
