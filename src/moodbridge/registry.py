"""One registry type for every pluggable part: encoders, emotion heads, filters, tasks, losses, spaces.

A :class:`Registry` maps names to objects (classes, factories, specs).  Looking
up a name that is not registered raises :class:`~moodbridge.errors.UnknownNameError`
with one message shape everywhere: ``unknown <what> 'x'; known: a, b, c``.

Built-in entries may live in modules that are heavy to import (torch models):
give ``builtins``, the dotted name of a module whose import registers them, and
it is imported on the first lookup, not before (the plugin pattern of
``importlib.import_module``; the registry's own module stays light).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar, overload

from moodbridge.errors import UnknownNameError

T = TypeVar("T")

__all__ = ["Registry"]


class Registry(Generic[T]):
    """Named entries of one kind.

    Parameters
    ----------
    what
        What an entry is, for messages (``"encoder"``, ``"emotion head"`` …).
    builtins
        Dotted module names imported before the first lookup (they register the built-in entries).
    """

    def __init__(self, what: str, *, builtins: tuple[str, ...] | str = ()) -> None:
        self.what = what
        self._builtins = (builtins,) if isinstance(builtins, str) else tuple(builtins)
        self._loaded = not self._builtins
        self._entries: dict[str, T] = {}
        self._instances: dict[str, object] = {}

    # -- registration -------------------------------------------------------------------
    @overload
    def register(self, name: str, entry: T) -> T: ...

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...

    def register(self, name: str, entry: T | None = None) -> T | Callable[[T], T]:
        """Register ``entry`` under ``name`` (replacing an earlier one); usable as a decorator."""
        if entry is None:
            def decorate(obj: T) -> T:
                self.register(name, obj)
                return obj

            return decorate
        self._entries[name] = entry
        self._instances.pop(name, None)
        return entry

    # -- lookup ---------------------------------------------------------------------------
    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module in self._builtins:
                importlib.import_module(module)

    def get(self, name: str) -> T:
        """The entry called ``name``.

        Raises
        ------
        UnknownNameError
            If no entry has that name (the message lists the known ones).
        """
        self._load()
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise UnknownNameError(f"unknown {self.what} {name!r}; known: {', '.join(self.names()) or 'none'}") from None

    def instance(self, name: str) -> object:
        """One shared instance per name: the registered factory is called on the first request."""
        if name not in self._instances:
            factory = self.get(name)
            self._instances[name] = factory()  # type: ignore[operator]
        return self._instances[name]

    def check(self, names: list[str] | tuple[str, ...]) -> list[str]:
        """``names`` as a list, or :class:`UnknownNameError` naming every unknown one."""
        self._load()
        unknown = [n for n in names if n not in self._entries]
        if unknown:
            word = self.what if len(unknown) == 1 else f"{self.what}s"
            raise UnknownNameError(f"unknown {word} {', '.join(map(repr, unknown))}; known: {', '.join(self.names())}")
        return list(names)

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        self._load()
        return list(self._entries)

    def items(self) -> list[tuple[str, T]]:
        """``(name, entry)`` pairs, in registration order."""
        self._load()
        return list(self._entries.items())

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self._load()
        return len(self._entries)

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __repr__(self) -> str:
        return f"Registry({self.what!r}, {len(self._entries)} entries)"
