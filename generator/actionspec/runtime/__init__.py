"""Run-time modules of the generated package.

Each file here is copied verbatim into `<package>/_runtime/` of the generated package, so it
imports nothing from actionspec and nothing outside the standard library and pydantic.
"""
