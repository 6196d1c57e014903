"""Language recipes as data: a TOML file of recipes, read when the registry is first used.

The built-in languages that need no code of their own are in `languages.toml` beside this
file; an operator adds languages (a toolchain Debian lacks, on an image made with `docker
save` and brought in with `judge images import`) in a file of the same form named by
JUDGE_LANGUAGES (several files: separated by `:`). Each table is one language, its key the
language's id:

    [fortran]
    name = "Fortran (GFortran)"
    extensions = [".f90", ".f95", ".f"]     # with the dot; the first is the usual one
                                             # (also_extensions: files of it once it is known)
    source = "main.f90"                      # the source's file name in the box
    image = "gcc-extra"                      # judge/images.toml's, or an imported one
    compile = ["/usr/bin/gfortran", "-O2", "-o", "main", "{sources}"]   # optional
    run = ["./main"]
    version = ["/usr/bin/gfortran", "--version"]
    artifacts = ["main"]                     # globs kept from the compile box (mode 755), or
                                             # {glob = "*.class", mode = 0o644}
    # optional: env = {NAME = "value"}, main_pattern = 'regex', compile_source = "...",
    # extra_time_ms = 0, extra_memory_mib = 0,
    # compile_limits = {cpu_time_ms = 10000, wall_time_ms = 20000, memory_mib = 512,
    #                   processes = 64, output_kib = 256}

    [fortran.self_test]                      # must pass in a real box before the language is offered
    source = "..."                           # prints `expected` for `stdin`
    stdin = "2 3\n"
    expected = "5\n"
    error_source = "..."                     # optional: must end RTE with exit code error_exit
    error_exit = 3

Placeholders in the argv arrays are recipe.py's (`{source}`, `{sources}`, `{stem}`, `{main}`,
`{memory_mib}`). Everything is checked when the file is read, and a mistake is a
LanguageFileError naming the file, the language and the key, so a broken file stops a
worker at its start instead of refusing submissions later.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sandbox import MiB

from ..errors import JudgeError
from .recipe import DEFAULT_COMPILE_LIMITS, KiB, Language, SelfTest, compile_limits

BUILTIN = Path(__file__).with_name("languages.toml")
ID = re.compile(r"^[a-z][a-z0-9_+-]*$")
PLACEHOLDERS = {"{source}", "{stem}", "{sources}", "{main}", "{memory_mib}"}

KEYS = {
    "name",
    "extensions",
    "also_extensions",
    "source",
    "image",
    "compile",
    "run",
    "version",
    "artifacts",
    "env",
    "main_pattern",
    "compile_source",
    "extra_time_ms",
    "extra_memory_mib",
    "compile_limits",
    "self_test",
}
REQUIRED = ("name", "extensions", "source", "image", "run", "version", "self_test")
SELF_TEST_KEYS = {"source", "stdin", "expected", "error_source", "error_exit"}
LIMIT_KEYS = {
    "cpu_time_ms": "cpu_time_ms",
    "wall_time_ms": "wall_time_ms",
    "memory_mib": "memory_bytes",
    "processes": "processes",
    "output_kib": "output_bytes",
}


class LanguageFileError(JudgeError):
    """A file of language recipes cannot be read or says something impossible; the message says where."""


def load(path: Path) -> tuple[Language, ...]:
    """The languages of one recipe file, in the file's order; LanguageFileError on any mistake."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise LanguageFileError(f"cannot read language recipes {path}: {e.strerror or e}") from e
    except tomllib.TOMLDecodeError as e:
        raise LanguageFileError(f"{path}: not valid TOML: {e}") from e
    return tuple(recipe(key, entry, where=f"{path}: [{key}]") for key, entry in raw.items())


def recipe(key: str, entry: Any, *, where: str) -> Language:
    """One table of a recipe file as a Language."""
    if not isinstance(entry, dict):
        raise LanguageFileError(f"{where} must be a table")
    if not ID.match(key):
        raise LanguageFileError(
            f"{where}: a language id is lower case letters, digits, _, + or -, starting with a letter"
        )
    unknown = set(entry) - KEYS
    if unknown:
        raise LanguageFileError(f"{where}: unknown keys {sorted(unknown)}; known: {', '.join(sorted(KEYS))}")
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        raise LanguageFileError(f"{where}: missing {', '.join(missing)}")
    extensions = _strings(entry, "extensions", where)
    if not extensions or not all(e.startswith(".") and len(e) > 1 for e in extensions):
        raise LanguageFileError(f'{where}: extensions must be a list like [".f90"], each with its dot')
    pattern = _string(entry, "main_pattern", where, "") or None
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as e:
            raise LanguageFileError(f"{where}: main_pattern is not a regular expression: {e}") from None
    env = entry.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise LanguageFileError(f'{where}: env must be a table of strings, like {{GOMAXPROCS = "1"}}')
    try:
        return Language(
            id=key,
            name=_string(entry, "name", where),
            extensions=tuple(extensions),
            also_extensions=tuple(_strings(entry, "also_extensions", where))
            if "also_extensions" in entry
            else (),
            source_name=_file_name(entry, where),
            image=_string(entry, "image", where),
            compile=_argv(entry, "compile", where) if "compile" in entry else None,
            run=_argv(entry, "run", where),
            version=_argv(entry, "version", where, placeholders=False),
            artifacts=_artifacts(entry.get("artifacts", []), where),
            env=tuple(env.items()),
            main_pattern=pattern,
            compile_source=_string(entry, "compile_source", where, ""),
            extra_time_ms=_int(entry, "extra_time_ms", where, 0),
            extra_memory_bytes=_int(entry, "extra_memory_mib", where, 0) * MiB,
            compile_limits=_compile_limits(entry.get("compile_limits", {}), where),
            self_test=_self_test(entry["self_test"], where),
        )
    except ValueError as e:
        raise LanguageFileError(f"{where}: {e}") from None


def _string(entry: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str):
        raise LanguageFileError(f"{where}: {key} must be a string")
    return value


def _int(entry: Mapping[str, Any], key: str, where: str, default: int) -> int:
    value = entry.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise LanguageFileError(f"{where}: {key} must be a whole number, 0 or more")
    return value


def _strings(entry: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = entry.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LanguageFileError(f"{where}: {key} must be a list of strings")
    return value


def _file_name(entry: Mapping[str, Any], where: str) -> str:
    name = _string(entry, "source", where)
    if not name or "/" in name or name in (".", "..") or "\0" in name:
        raise LanguageFileError(f'{where}: source must be a plain file name, like "main.f90"')
    return name


def _argv(entry: Mapping[str, Any], key: str, where: str, *, placeholders: bool = True) -> tuple[str, ...]:
    argv = _strings(entry, key, where)
    if not argv or not argv[0].startswith(("/", "./")):
        raise LanguageFileError(f"{where}: {key} must start with a program's path (/usr/bin/... or ./...)")
    for arg in argv:
        found = set(re.findall(r"{[^{}]*}", arg))
        allowed = PLACEHOLDERS if placeholders else set()
        if found - allowed:
            raise LanguageFileError(
                f"{where}: {key}: unknown placeholder {sorted(found - allowed)[0]}; "
                f"known: {', '.join(sorted(allowed)) or 'none in a version command'}"
            )
    return tuple(argv)


def _artifacts(value: Any, where: str) -> tuple[tuple[str, int], ...]:
    out: list[tuple[str, int]] = []
    if not isinstance(value, list):
        raise LanguageFileError(f"{where}: artifacts must be a list")
    for item in value:
        if isinstance(item, str):
            out.append((item, 0o755))
        elif (
            isinstance(item, dict)
            and set(item) <= {"glob", "mode"}
            and isinstance(item.get("glob"), str)
            and isinstance(item.get("mode", 0o755), int)
            and 0 <= item.get("mode", 0o755) <= 0o777
        ):
            out.append((item["glob"], int(item.get("mode", 0o755))))
        else:
            raise LanguageFileError(
                f'{where}: an artifact is a glob ("main") or {{glob = "*.class", mode = 0o644}}'
            )
    for glob, _ in out:
        if not glob or glob.startswith("/") or ".." in glob.split("/"):
            raise LanguageFileError(f"{where}: artifact {glob!r} must name files in the box's folder")
    return tuple(out)


def _compile_limits(value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise LanguageFileError(f"{where}: compile_limits must be a table")
    unknown = set(value) - set(LIMIT_KEYS)
    if unknown:
        raise LanguageFileError(
            f"{where}: compile_limits: unknown keys {sorted(unknown)}; known: {', '.join(LIMIT_KEYS)}"
        )
    changes: dict[str, int] = {}
    for key, field_name in LIMIT_KEYS.items():
        if key in value:
            n = _int(value, key, f"{where}: compile_limits", 0)
            if n == 0:
                raise LanguageFileError(f"{where}: compile_limits: {key} must be more than 0")
            changes[field_name] = n * MiB if key == "memory_mib" else n * KiB if key == "output_kib" else n
    if changes.get("cpu_time_ms", 0) > 60_000 or changes.get("memory_bytes", 0) > 4096 * MiB:
        raise LanguageFileError(f"{where}: compile_limits: at most 60000 ms of CPU and 4096 MiB")
    return compile_limits(**changes) if changes else DEFAULT_COMPILE_LIMITS


def _self_test(value: Any, where: str) -> SelfTest:
    where = f"{where}.self_test"
    if not isinstance(value, dict):
        raise LanguageFileError(f"{where} must be a table with source, stdin and expected")
    unknown = set(value) - SELF_TEST_KEYS
    if unknown:
        raise LanguageFileError(
            f"{where}: unknown keys {sorted(unknown)}; known: {', '.join(sorted(SELF_TEST_KEYS))}"
        )
    error_source = _string(value, "error_source", where, "")
    error_exit = value.get("error_exit")
    if bool(error_source) != (error_exit is not None):
        raise LanguageFileError(f"{where}: error_source and error_exit go together")
    if error_exit is not None and (not isinstance(error_exit, int) or not 1 <= error_exit <= 255):
        raise LanguageFileError(f"{where}: error_exit must be an exit code from 1 to 255")
    return SelfTest(
        source=_string(value, "source", where),
        stdin=_string(value, "stdin", where),
        expected=_string(value, "expected", where),
        error_source=error_source,
        error_exit=error_exit,
    )
