"""Read a package's files: PackageError, paths relative to the package, folder listings, YAML.

Shared by the loaders (package.py, testdata.py, submissions.py, dmoj.py) and imports none of
them. Reads only. Every fault is a PackageError naming the file relative to the package, so a
message can be acted on without knowing where the package was unpacked.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import yaml

from ..errors import JudgeError

# what a problem statement may show as an image
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"})


class PackageError(JudgeError):
    """The package is broken; the message names the file (relative to the package) and the fault."""

    def __init__(self, where: str, fault: str) -> None:
        super().__init__(f"{where}: {fault}")
        self.where = where
        self.fault = fault


def rel(root: Path, p: Path) -> str:
    """`p` relative to the package, with a trailing slash for a folder (as EXPECTED.tsv writes it)."""
    r = p.relative_to(root).as_posix()
    return r + "/" if p.is_dir() else r


def entries(d: Path) -> list[Path]:
    """A folder's entries in lexicographic order, without names starting with a dot."""
    if not d.is_dir():
        return []
    return sorted((e for e in d.iterdir() if not e.name.startswith(".")), key=lambda e: e.name)


def files_under(d: Path) -> list[Path]:
    """The files below a folder, by relative path, skipping names that start with a dot."""
    out = []
    for dirpath, dirnames, filenames in os.walk(d, followlinks=True):
        dirnames[:] = sorted(n for n in dirnames if not n.startswith("."))
        out += [Path(dirpath, n) for n in sorted(filenames) if not n.startswith(".")]
    return out


def read_yaml(root: Path, p: Path) -> dict[str, Any]:
    """A YAML file that must hold a mapping (an empty file is an empty one)."""
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise PackageError(rel(root, p), f"not valid YAML ({one_line(e)})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise PackageError(rel(root, p), f"cannot be read ({e})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PackageError(rel(root, p), f"must hold a mapping of keys, not a {type(data).__name__}")
    return {str(k): v for k, v in data.items()}


def one_line(e: Exception) -> str:
    return " ".join(str(e).split())


def number(
    where: str, key: str, value: object, *, integer: bool = False, minimum: float = 0.0, strict: bool = True
) -> float:
    """A number from a YAML value; PackageError naming the key when it is not one in range."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and integer and isinstance(value, float):
        ok = value.is_integer()
    if not ok:
        kind = "an integer" if integer else "a number"
        raise PackageError(where, f"{key} must be {kind}, not {value!r}")
    v = float(value)  # type: ignore[arg-type]
    if v < minimum or (strict and v == minimum):
        raise PackageError(where, f"{key} must be {'>' if strict else '>='} {minimum:g}, not {value!r}")
    return v


def words(where: str, key: str, value: object) -> tuple[str, ...]:
    """Command-line arguments from a string (split as a shell would) or a list of strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        try:
            return tuple(shlex.split(value))
        except ValueError as e:
            raise PackageError(where, f"{key}: {e}") from None
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v) for v in value)
    raise PackageError(where, f"{key} must be a string or a list of strings, not {value!r}")


def unknown_keys(fmt: str, warnings: list[str], where: str, keys: set[str], allowed: set[str]) -> None:
    """Keys a format does not define: a PackageError in 2025-09, a warning in the older formats."""
    extra = sorted(keys - allowed)
    if not extra:
        return
    if fmt == "2025-09":
        raise PackageError(
            where,
            f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(extra)} "
            f"(2025-09 allows: {', '.join(sorted(allowed))})",
        )
    warnings.append(f"{where}: unknown key{'s' if len(extra) > 1 else ''} {', '.join(extra)}; ignored")
