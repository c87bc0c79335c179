"""actionspec: analytics destinations described in YAML, generated into a typed Python package.

Flow, in one direction: spec file -> located YAML (`spec.loader`) -> checked against the
meta-schema and cross references (`spec.validate`) -> intermediate representation (`ir`) ->
one generator per target (`targets.*`) -> files written by `generate`.
"""

__version__ = "0.1.0"
