"""Compiler options shared by every target of the project."""

# Warnings on for all C++ code of the project.
RACT_COPTS = [
    "-Wall",
    "-Wextra",
    "-Wno-unused-parameter",
]

# The on-device scorer builds without exceptions and RTTI (it uses neither).
RACT_LEAN_COPTS = RACT_COPTS + [
    "-fno-exceptions",
    "-fno-rtti",
]
