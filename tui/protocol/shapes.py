"""Checking a received value against a type: the one decoder for every message.

`check(hint, value, where)` returns `value` when it fits `hint` and raises
`ShapeError` naming the first place that does not. The hints are the ones the
message types are written in (`tui.protocol.messages`): `str`, `int`, `float`,
`bool`, `None`, unions, `list[...]`, `tuple[...]` (a fixed-length JSON list),
`dict[str, ...]`, `Literal[...]`, `StrEnum`
classes and TypedDicts (whose `NotRequired` keys may be missing). Extra keys are
allowed, so a newer server may add fields. Plain Python, so both sides and every
client share one definition of what a message is.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from typing import Literal, NotRequired, TypeVar, Union, get_args, get_origin

T = TypeVar("T")


class ShapeError(ValueError):
    """A value does not fit its type; the message names where (`tabs[2]: ...`)."""


@functools.cache
def _typed_dict_fields(cls: type) -> tuple[tuple[str, object, bool], ...]:
    """(name, hint, required) of a TypedDict, resolved once per class."""
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = []
    for name, hint in hints.items():
        # Under `from __future__ import annotations` a TypedDict cannot see its own
        # NotRequired marks (its __required_keys__ holds them); the hints can.
        required = name in cls.__required_keys__  # type: ignore[attr-defined]
        if get_origin(hint) is NotRequired:
            hint, required = get_args(hint)[0], False
        fields.append((name, hint, required))
    return tuple(fields)


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check(hint: object, value: object, where: str) -> object:
    """`value` if it fits `hint`; ShapeError naming `where` otherwise."""
    if hint is object:
        return value
    if hint is None or hint is type(None):
        if value is None:
            return value
        raise ShapeError(f"{where}: expected null, got {_describe(value)}")
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = get_args(hint)
        others = [option for option in options if option is not type(None)]
        if value is not None and len(others) == 1:
            return check(others[0], value, where)  # `X | None`: say what X wanted
        for option in options:
            try:
                return check(option, value, where)
            except ShapeError:
                continue
        raise ShapeError(f"{where}: unexpected {_describe(value)}")
    if origin is Literal:
        if value in get_args(hint) and type(value) in {type(a) for a in get_args(hint)}:
            return value
        raise ShapeError(f"{where}: {_describe(value)} is not one of {list(get_args(hint))}")
    if origin is list:
        if not isinstance(value, list):
            raise ShapeError(f"{where}: expected a list, got {_describe(value)}")
        (item,) = get_args(hint)
        for index, element in enumerate(value):
            check(item, element, f"{where}[{index}]")
        return value
    if origin is tuple:
        # JSON has no tuples: a fixed-length list of differently typed items.
        items = get_args(hint)
        if not isinstance(value, list) or len(value) != len(items):
            raise ShapeError(f"{where}: expected a list of {len(items)}, got {_describe(value)}")
        for index, (item, element) in enumerate(zip(items, value, strict=True)):
            check(item, element, f"{where}[{index}]")
        return value
    if origin is dict:
        if not isinstance(value, dict):
            raise ShapeError(f"{where}: expected an object, got {_describe(value)}")
        _key, item = get_args(hint)
        for name, element in value.items():
            if not isinstance(name, str):
                raise ShapeError(f"{where}: keys must be strings")
            check(item, element, f"{where}.{name}")
        return value
    if typing.is_typeddict(hint):
        assert isinstance(hint, type)
        if not isinstance(value, dict):
            raise ShapeError(f"{where}: expected an object, got {_describe(value)}")
        for name, field_hint, required in _typed_dict_fields(hint):
            if name in value:
                check(field_hint, value[name], f"{where}.{name}" if where else name)
            elif required:
                raise ShapeError(f"{where}: missing {name!r}" if where else f"missing {name!r}")
        return value
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            raise ShapeError(f"{where}: {_describe(value)} is not a {hint.__name__}") from None
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ShapeError(f"{where} must be true or false, not {_describe(value)}")
    if hint is int:
        # bool is an int to isinstance: `port: true` is no port.
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ShapeError(f"{where} must be an integer, not {_describe(value)}")
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        raise ShapeError(f"{where} must be a number, not {_describe(value)}")
    if hint is str:
        if isinstance(value, str):
            return value
        raise ShapeError(f"{where} must be a string, not {_describe(value)}")
    raise TypeError(f"no shape check for {hint!r}")  # a bug in a message type


def fits(cls: type[T], value: object, where: str = "") -> T:
    """`value` checked against the TypedDict (or other type) `cls`, typed as it."""
    return typing.cast(T, check(cls, value, where))
