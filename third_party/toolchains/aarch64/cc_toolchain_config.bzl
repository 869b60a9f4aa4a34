"""A C/C++ toolchain for aarch64 Linux over Debian's cross gcc (g++-aarch64-linux-gnu).

Hermetic about headers: -nostdinc drops every default search path (Debian's cross gcc
would otherwise also search the x86-64 /usr/include) and the cross compiler's own
directories are added back explicitly, C++ ones first for C++ actions only. Binaries link
statically against the project's libraries and dynamically against the aarch64 glibc and
libstdc++ under /usr/aarch64-linux-gnu (qemu-aarch64 -L runs them, see .bazelrc).
"""

load(
    "@bazel_tools//tools/cpp:cc_toolchain_config_lib.bzl",
    "feature",
    "flag_group",
    "flag_set",
    "tool_path",
    "with_feature_set",
)
load("@bazel_tools//tools/build_defs/cc:action_names.bzl", "ACTION_NAMES")

_C_COMPILE = [
    ACTION_NAMES.c_compile,
    ACTION_NAMES.assemble,
    ACTION_NAMES.preprocess_assemble,
]

_CXX_COMPILE = [
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.cpp_header_parsing,
    ACTION_NAMES.cpp_module_compile,
    ACTION_NAMES.linkstamp_compile,
]

_ALL_COMPILE = _C_COMPILE + _CXX_COMPILE

_ALL_LINK = [
    ACTION_NAMES.cpp_link_executable,
    ACTION_NAMES.cpp_link_dynamic_library,
    ACTION_NAMES.cpp_link_nodeps_dynamic_library,
]

def _flags(actions, flags, features = None):
    return flag_set(
        actions = actions,
        flag_groups = [flag_group(flags = flags)],
        with_features = [with_feature_set(features = features)] if features else [],
    )

def _impl(ctx):
    prefix = ctx.attr.tool_prefix
    tools = ["ar", "cpp", "gcc", "gcov", "ld", "nm", "objcopy", "objdump", "strip"]
    tool_paths = [tool_path(name = t, path = prefix + t) for t in tools]

    cxx_isystem = []
    for d in ctx.attr.cxx_include_dirs:
        cxx_isystem += ["-isystem", d]
    c_isystem = []
    for d in ctx.attr.c_include_dirs:
        c_isystem += ["-isystem", d]

    features = [
        # Bazel turns these on from --compilation_mode; they must exist to be used below.
        feature(name = "opt"),
        feature(name = "dbg"),
        feature(name = "fastbuild"),
        feature(name = "supports_pic", enabled = True),
        feature(
            name = "default_compile_flags",
            enabled = True,
            flag_sets = [
                _flags(_ALL_COMPILE, [
                    "-nostdinc",
                    "-fstack-protector",
                    "-Wall",
                    "-fno-omit-frame-pointer",
                ]),
                # libstdc++'s wrappers (<cstdlib> -> #include_next <stdlib.h>) need the C++
                # directories in front of the C ones.
                _flags(_CXX_COMPILE, cxx_isystem),
                _flags(_ALL_COMPILE, c_isystem),
                _flags(_ALL_COMPILE, ["-g"], ["dbg"]),
                _flags(_ALL_COMPILE, [
                    "-g0",
                    "-O2",
                    "-D_FORTIFY_SOURCE=1",
                    "-DNDEBUG",
                    "-ffunction-sections",
                    "-fdata-sections",
                ], ["opt"]),
            ],
        ),
        feature(
            name = "default_link_flags",
            enabled = True,
            flag_sets = [
                _flags(_ALL_LINK, ["-Wl,-z,relro,-z,now", "-pass-exit-codes"]),
                _flags(_ALL_LINK, ["-Wl,--gc-sections"], ["opt"]),
            ],
        ),
        # After the project's libraries: the C++ runtime only where a binary uses it.
        feature(
            name = "default_link_libs",
            enabled = True,
            flag_sets = [_flags(_ALL_LINK, ["-Wl,--as-needed", "-lstdc++", "-lm"])],
        ),
        # Reproducible outputs, as Bazel's own Linux toolchain does.
        feature(
            name = "unfiltered_compile_flags",
            enabled = True,
            flag_sets = [_flags(_ALL_COMPILE, [
                "-no-canonical-prefixes",
                "-fno-canonical-system-headers",
                "-Wno-builtin-macro-redefined",
                "-D__DATE__=\"redacted\"",
                "-D__TIMESTAMP__=\"redacted\"",
                "-D__TIME__=\"redacted\"",
            ])],
        ),
    ]

    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        features = features,
        cxx_builtin_include_directories = ctx.attr.cxx_include_dirs + ctx.attr.c_include_dirs,
        toolchain_identifier = "aarch64-linux-gnu-gcc",
        host_system_name = "x86_64-unknown-linux-gnu",
        target_system_name = "aarch64-unknown-linux-gnu",
        target_cpu = "aarch64",
        target_libc = "glibc",
        compiler = "gcc",
        abi_version = "gcc",
        abi_libc_version = "glibc",
        tool_paths = tool_paths,
    )

cc_toolchain_config = rule(
    implementation = _impl,
    attrs = {
        "tool_prefix": attr.string(mandatory = True),
        "cxx_include_dirs": attr.string_list(mandatory = True),
        "c_include_dirs": attr.string_list(mandatory = True),
    },
    provides = [CcToolchainConfigInfo],
)
