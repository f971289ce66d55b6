"""One registry style for everything hashdemo looks up by name (attacks, defences, hashing losses, datasets,
backbones), in the manner of timm's `@register_model`: a class or factory registers itself with a decorator in
its own file, and the package's __init__ imports that file (the one line a new entry adds)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from .errors import InvalidInputError

T = TypeVar("T")


class Registry(Generic[T]):
    """Names -> entries, in registration order; `get` answers an unknown name with the known ones."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str | None = None) -> Callable[[T], T]:
        """Decorator: `@ATTACKS.register()` uses the class's `name`; `@DATASETS.register("fashion")` a given one."""

        def add(entry: T) -> T:
            key = name or entry.name  # type: ignore[attr-defined]
            if key in self._entries:
                raise ValueError(f"{self.kind} {key!r} is registered twice")
            self._entries[key] = entry
            return entry

        return add

    def get(self, name: str) -> T:
        if name not in self._entries:
            raise InvalidInputError(f"unknown {self.kind} {name!r}; choose one of {', '.join(self._entries)}")
        return self._entries[name]

    def names(self) -> list[str]:
        return list(self._entries)

    def items(self) -> list[tuple[str, T]]:
        return list(self._entries.items())

    def values(self) -> list[T]:
        return list(self._entries.values())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, name: str) -> T:
        return self.get(name)
