"""The compile cache (judge/compile_cache.py): keyed by every input, bounded, and believing no entry."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from judge.compile_cache import SUFFIX, CompileCache, compile_key

BASE: dict[str, Any] = {
    "language": "c",
    "argv": ["gcc", "-O2", "-o", "main", "main.c"],
    "limits": "Limits(cpu_time_ms=10000)",
    "env": {"PATH": "/usr/bin"},
    "artifacts": [("main", 0o755)],
    "entry": "main.c",
    "main": None,
    "image_key": "gcc@0123456789abcdef,fedcba9876543210",
    "sources": [("main.c", b"int main(){}\n")],
}
PROGRAM = (("main.c", b"int main(){}\n", 0o644), ("main", b"\x7fELF" + b"\0" * 1000, 0o755))


@pytest.mark.parametrize(
    ("field", "other"),
    [
        ("language", "cpp"),
        ("argv", ["gcc", "-O0", "-o", "main", "main.c"]),
        ("limits", "Limits(cpu_time_ms=20000)"),
        ("env", {"PATH": "/bin"}),
        ("artifacts", [("main", 0o700)]),
        ("entry", "a.c"),
        ("main", "Main"),
        ("image_key", "gcc@0123456789abcdef,fedcba9876543211"),  # a rebuilt top layer
        ("sources", [("main.c", b"int main(){ }\n")]),
        ("sources", [("main.c", b"int main(){}\n"), ("b.c", b"")]),
        ("sources", [("other.c", b"int main(){}\n")]),
    ],
)
def test_every_input_of_a_compile_changes_its_key(field: str, other: object) -> None:
    assert compile_key(**BASE) == compile_key(**BASE)
    assert compile_key(**{**BASE, field: other}) != compile_key(**BASE)


def test_parts_cannot_run_together() -> None:
    a = compile_key(**{**BASE, "sources": [("ab", b"c")]})
    b = compile_key(**{**BASE, "sources": [("a", b"bc")]})
    assert a != b


def test_an_entry_comes_back_as_it_was_put(tmp_path: Path) -> None:
    cache = CompileCache(str(tmp_path / "c"), 1 << 20)
    key = compile_key(**BASE)
    assert cache.get(key) is None
    assert cache.put(key, PROGRAM, "warning: unused\n")
    hit = cache.get(key)
    assert hit is not None
    assert hit.files == PROGRAM and hit.compile_output == "warning: unused\n"
    assert (cache.hits, cache.misses) == (1, 1)
    assert oct(os.stat(tmp_path / "c").st_mode & 0o777) == "0o700"
    assert [p.name for p in (tmp_path / "c").iterdir()] == [key + SUFFIX]  # no temporary file left


def poison(path: Path, how: str) -> None:
    data = path.read_bytes()
    head, _, body = data.partition(b"\n")
    if how == "flip a byte of the program":
        body = body[:-1] + bytes([body[-1] ^ 1])
    elif how == "cut short":
        body = body[:-10]
    elif how == "bytes appended":
        body += b"\0"
    elif how == "a name leaving /box":
        head = head.replace(b'"main"', b'"../main"')
    elif how == "setuid mode":
        head = head.replace(b'"main", 493', b'"main", 2541')
    elif how == "not JSON":
        head = b"{" + head
    path.write_bytes(head + b"\n" + body)


@pytest.mark.parametrize(
    "how",
    [
        "flip a byte of the program",
        "cut short",
        "bytes appended",
        "a name leaving /box",
        "setuid mode",
        "not JSON",
    ],
)
def test_a_damaged_entry_is_refused_and_removed(tmp_path: Path, how: str) -> None:
    cache = CompileCache(str(tmp_path), 1 << 20)
    key = compile_key(**BASE)
    cache.put(key, PROGRAM, "")
    path = tmp_path / (key + SUFFIX)
    poison(path, how)
    assert cache.get(key) is None
    assert not path.exists()


def test_an_entry_under_another_key_is_refused(tmp_path: Path) -> None:
    """Another source's program renamed to this source's key is not served for it."""
    cache = CompileCache(str(tmp_path), 1 << 20)
    mine = compile_key(**BASE)
    theirs = compile_key(**{**BASE, "sources": [("main.c", b"int main(){return 1;}\n")]})
    cache.put(theirs, PROGRAM, "")
    os.rename(tmp_path / (theirs + SUFFIX), tmp_path / (mine + SUFFIX))
    assert cache.get(mine) is None


def test_the_cache_stays_within_its_bound_and_keeps_the_recently_used(tmp_path: Path) -> None:
    probe = CompileCache(str(tmp_path / "probe"), 1 << 20)
    probe.put(compile_key(**BASE), PROGRAM, "")
    entry = probe.size_bytes()
    cache = CompileCache(str(tmp_path / "c"), 9 * entry)  # an entry may be at most an eighth: 9 fit
    tmp_path = tmp_path / "c"
    keys = [compile_key(**{**BASE, "sources": [("main.c", b"%d" % i)]}) for i in range(20)]
    for i, key in enumerate(keys):
        assert cache.put(key, PROGRAM, "")
        os.utime(tmp_path / (key + SUFFIX), ns=(i * 10**9, i * 10**9))
        if i == 5:
            assert cache.get(keys[0]) is not None  # used: renewed, outlives those made before it
        assert cache.size_bytes() <= cache.max_bytes
    kept = {p.name.removesuffix(SUFFIX) for p in tmp_path.iterdir()}
    assert keys[-1] in kept and keys[0] in kept and keys[1] not in kept
    assert len(kept) == 9


def test_an_entry_over_an_eighth_of_the_bound_is_not_kept(tmp_path: Path) -> None:
    cache = CompileCache(str(tmp_path), 8 * 500)
    assert not cache.put(compile_key(**BASE), PROGRAM, "")
    assert list(tmp_path.iterdir()) == []


def test_host_compiles_are_not_cached() -> None:
    assert not CompileCache.caches("host")
    assert CompileCache.caches("gcc@0123456789abcdef")
