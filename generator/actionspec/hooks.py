"""Hand-written hook modules beside the specs: finding them, checking them, writing stubs.

A spec `specs/acme.yaml` whose actions declare hooks keeps their code in `specs/acme_hooks.py`.
`actionspec generate` appends a typed stub for every declared hook the module does not define
yet (creating the module if needed) and never changes a function that is already there; the
module is then copied into the package as `<package>/<module>/hooks.py`. `actionspec validate`
reports every hook that is still a stub.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

from actionspec import ir

HOOK_POINTS = ("before_mapping", "after_payload", "build_request")

_STUB_MARKER = "HookNotImplementedError"


def hooks_path(spec_path: Path) -> Path:
    return spec_path.with_name(f"{spec_path.stem}_hooks.py")


def function_name(action: ir.Action, point: str) -> str:
    return f"{action.name}_{point}"


@dataclass(frozen=True)
class DeclaredHook:
    action: ir.Action
    point: str
    description: str

    @property
    def function(self) -> str:
        return function_name(self.action, self.point)


def declared(dest: ir.Destination) -> list[DeclaredHook]:
    return [
        DeclaredHook(action, point, action.hooks[point])
        for action in dest.actions
        for point in HOOK_POINTS
        if point in action.hooks
    ]


class HooksSyntaxError(ValueError):
    """A hooks module does not parse; `.line` and `.column` say where."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def defined_functions(source: str) -> dict[str, bool]:
    """Names a hooks module defines at top level -> whether each is implemented (not a stub).

    Every binding counts (def, async def, class, import, assignment): a hook written any of
    those ways must never get a stub appended after it, which would replace it.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise HooksSyntaxError(exc.msg, exc.lineno or 1, (exc.offset or 1)) from None
    found: dict[str, bool] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found[node.name] = not _is_stub(node)
        elif isinstance(node, ast.ClassDef):
            found[node.name] = True
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                found[(alias.asname or alias.name).split(".")[0]] = True
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        found[name.id] = True
    return found


def _is_stub(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return (
        len(body) == 1 and isinstance(body[0], ast.Raise) and _STUB_MARKER in ast.unparse(body[0])
    )


def header(dest: ir.Destination) -> str:
    return f'''"""Hooks of the {dest.name} destination, written by hand ({dest.source}).

actionspec copies this file into the generated package as `{dest.module}/hooks.py`, and appends
a stub here for each hook the spec declares that this file does not define; it never changes a
function that is already here. Replace each stub's body with the hook's code.
"""

from __future__ import annotations

from typing import Any

from .._runtime.hooks import HookNotImplementedError, HookRequest
from . import models
'''


def stub(dest: ir.Destination, hook: DeclaredHook) -> str:
    payload = f"models.{hook.action.model_name}"
    signature, returns, what = {
        "before_mapping": (
            "event: dict[str, Any], settings: models.Settings",
            "dict[str, Any]",
            "Runs before the mapping: return the event the mapping reads.",
        ),
        "after_payload": (
            f"payload: {payload}, settings: models.Settings",
            payload,
            "Runs on the validated payload: return the payload to send (it is validated again).",
        ),
        "build_request": (
            f"payload: {payload}, settings: models.Settings",
            "list[HookRequest]",
            "Builds the requests of the action instead of the spec's request template.",
        ),
    }[hook.point]
    description = hook.description.strip().replace('"""', "'''").replace("\\", "\\\\")
    return f'''

def {hook.function}({signature}) -> {returns}:
    """{description}

    {what}
    Password settings are SecretStr: read them with `.get_secret_value()`.
    Declared in {dest.source}: action '{hook.action.key}', hook '{hook.point}'.
    """
    raise HookNotImplementedError({json.dumps(dest.slug)}, {json.dumps(hook.action.key)}, {json.dumps(hook.point)})
'''


def missing_stubs(dest: ir.Destination, source: str | None) -> str | None:
    """The hooks module with stubs appended for undefined hooks; None when nothing changes."""
    hooks = declared(dest)
    if not hooks:
        return None
    text = source if source is not None else header(dest)
    defined = defined_functions(text)
    added = "".join(stub(dest, h) for h in hooks if h.function not in defined)
    if not added and source is not None:
        return None
    return text.rstrip("\n") + "\n" + added


def unimplemented(dest: ir.Destination, source: str | None) -> list[DeclaredHook]:
    defined = defined_functions(source) if source is not None else {}
    return [h for h in declared(dest) if not defined.get(h.function, False)]
