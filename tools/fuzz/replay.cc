// Replays fuzz inputs through a target's LLVMFuzzerTestOneInput as a doctest test, so the
// seed corpus (and every crash added to it) is a regression test in every configuration.
// Usage: <name>_fuzz_test [doctest options] PATH...  (files, or folders of inputs)
#define DOCTEST_CONFIG_IMPLEMENT  // doctest itself, with the main() below
#include <doctest/doctest.h>
#include <stddef.h>
#include <stdint.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::string> g_paths;

std::vector<std::string> inputs() {
  std::vector<std::string> files;
  for (const std::string& p : g_paths) {
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path().string());
      }
    } else {
      files.push_back(p);
    }
  }
  return files;
}

}  // namespace

TEST_CASE("every corpus input runs through the fuzz entry point") {
  std::vector<std::string> files = inputs();
  REQUIRE_MESSAGE(!files.empty(), "no fuzz inputs found (pass files or folders)");
  for (const std::string& f : files) {
    std::ifstream in(f, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot open " << f);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    INFO("input ", f, " (", bytes.size(), " bytes)");
    CHECK(LLVMFuzzerTestOneInput(bytes.data(), bytes.size()) == 0);
  }
  MESSAGE("replayed ", files.size(), " inputs");
}

int main(int argc, char** argv) {
  // Arguments that are not doctest options name the inputs.
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] != '-') g_paths.push_back(argv[i]);
  }
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
