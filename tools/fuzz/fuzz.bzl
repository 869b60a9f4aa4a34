"""libFuzzer targets: `ract_fuzz_target(name = "x", deps = [...])` in tools/fuzz/BUILD.

Convention: the entry point `LLVMFuzzerTestOneInput` lives in tools/fuzz/<name>_fuzz.cc and
the committed seed corpus in tools/fuzz/corpus/<name>/ (one input per file; a crash that
fuzzing finds is added there and so becomes a regression test). The macro defines
  - <name>_fuzz:      the libFuzzer binary; only with --config=fuzz (clang, see .bazelrc),
                      run by tools/fuzz/run.sh <name> SECONDS;
  - <name>_fuzz_test: a doctest test replaying every corpus input through the same entry
                      point, in every other configuration (plain, asan, aarch64).
"""

load("//ract:copts.bzl", "RACT_COPTS")

def ract_fuzz_target(name, deps, srcs = None):
    srcs = srcs or [name + "_fuzz.cc"]
    corpus = native.glob(["corpus/%s/*" % name])
    if not corpus:
        fail("tools/fuzz/corpus/%s/ needs at least one seed input" % name)

    native.cc_binary(
        name = name + "_fuzz",
        srcs = srcs,
        copts = RACT_COPTS,
        # The C++ part of the UBSan runtime (function-type checks on calls through function
        # pointers, as the trainer and evaluator make): clang links it only for clang++.
        linkopts = ["-fsanitize=fuzzer", "-fsanitize-link-c++-runtime"],
        deps = deps + ["//tools/fuzz:fuzz_check"],
        testonly = True,
        tags = ["manual", "fuzz"],
        target_compatible_with = select({
            "//tools/fuzz:fuzzing": [],
            "//conditions:default": ["//tools/fuzz:needs_config_fuzz"],
        }),
    )

    native.cc_test(
        name = name + "_fuzz_test",
        size = "small",
        srcs = srcs,
        copts = RACT_COPTS,
        data = corpus,
        args = ["tools/fuzz/corpus/" + name],
        deps = deps + [
            "//tools/fuzz:fuzz_check",
            "//tools/fuzz:replay",
        ],
        target_compatible_with = select({
            "//tools/fuzz:fuzzing": ["//tools/fuzz:needs_config_fuzz"],
            "//conditions:default": [],
        }),
    )
