"""Hooks: hand-written Python an action calls where no mapping directive can say it.

A spec declares a hook per action (`hooks: {after_payload: {description: ...}}`); the function
lives in `<spec>_hooks.py` beside the spec and is copied into the package as `<slug>/hooks.py`.
The three points:

- `before_mapping(event, settings) -> event`: rewrite the event before the mapping reads it;
- `after_payload(payload, settings) -> payload`: adjust the validated payload (a pydantic model);
- `build_request(payload, settings) -> [HookRequest]`: build the requests instead of the spec's
  request template.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .payload import PayloadValidationError

__all__ = ["ActionHooks", "HookError", "HookNotImplementedError", "HookRequest"]


class HookError(RuntimeError):
    """A hook failed or returned something unusable; names the destination, action and hook.
    What a hook itself raised is its `__cause__`."""


def hook_name(destination: str, action: str, hook: str) -> str:
    """How messages name a hook: "hook 'after_payload' of loops action 'sendEvent'"."""
    return f"hook '{hook}' of {destination} action '{action}'"


class HookNotImplementedError(HookError, NotImplementedError):
    """A declared hook is still the generated stub."""

    def __init__(self, destination: str, action: str, hook: str) -> None:
        super().__init__(
            f"{hook_name(destination, action, hook)} is declared in the spec but not "
            f"implemented: write it in the destination's *_hooks.py beside the spec"
        )
        self.destination, self.action, self.hook = destination, action, hook


@dataclass
class HookRequest:
    """A request a `build_request` hook returns (JSON body; headers as sent)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None


@dataclass(frozen=True)
class ActionHooks:
    """The hooks of one action, and the models their arguments are typed with."""

    destination: str
    action: str
    payload_model: Any  # a pydantic model class
    settings_model: Any
    before_mapping: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None
    after_payload: Callable[[Any, Any], Any] | None = None
    build_request: Callable[[Any, Any], list[HookRequest]] | None = None

    def settings(self, settings: Mapping[str, Any]) -> Any:
        return self.settings_model.model_validate(dict(settings))

    def run_before_mapping(self, event: Mapping[str, Any], settings: Any) -> dict[str, Any]:
        if self.before_mapping is None:
            return dict(event)
        result = self._call("before_mapping", self.before_mapping, dict(event), settings)
        if not isinstance(result, dict):
            raise self._bad("before_mapping", "an event (dict)", result)
        return result

    def run_after_payload(self, payload: dict[str, Any], settings: Any) -> dict[str, Any]:
        if self.after_payload is None:
            return payload
        model = self.payload_model.model_validate(payload)
        result = self._call("after_payload", self.after_payload, model, settings)
        if not isinstance(result, self.payload_model):
            raise self._bad("after_payload", f"a {self.payload_model.__name__}", result)
        try:  # a hook may break the payload's rules: report it like any invalid payload
            checked = self.payload_model.model_validate(
                result.model_dump(by_alias=True, exclude_unset=True)
            )
        except ValueError as exc:
            raise PayloadValidationError(f"after_payload hook: {exc}", "") from None
        dumped: dict[str, Any] = checked.model_dump(by_alias=True, exclude_unset=True)
        return dumped

    def run_build_request(self, payload: dict[str, Any], settings: Any) -> list[HookRequest]:
        assert self.build_request is not None
        model = self.payload_model.model_validate(payload)
        result = self._call("build_request", self.build_request, model, settings)
        if not isinstance(result, list) or not all(isinstance(r, HookRequest) for r in result):
            raise self._bad("build_request", "a list of HookRequest", result)
        return result

    def _call(self, hook: str, function: Callable[[Any, Any], Any], *args: Any) -> Any:
        """`function(*args)`; what it raises becomes a HookError naming the hook, except the
        errors a hook may mean: rejecting the payload, or its own stub's HookError."""
        try:
            return function(*args)
        except (HookError, PayloadValidationError):
            raise
        except Exception as exc:
            raise HookError(
                f"{hook_name(self.destination, self.action, hook)} raised "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _bad(self, hook: str, expected: str, got: Any) -> HookError:
        return HookError(
            f"{hook_name(self.destination, self.action, hook)} must return {expected}, "
            f"not {type(got).__name__}"
        )
