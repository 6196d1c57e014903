"""Language recipes: the registry, lookups, Java's public class, argv placeholders, allowances."""

from __future__ import annotations

import pytest

from judge import languages
from judge.errors import UnknownLanguage
from judge.languages import java
from judge.languages.recipe import expand
from sandbox import Limits, MiB


def test_registry_order_and_ids() -> None:
    assert languages.ids() == ["c", "cpp", "python3", "java", "javascript"]


@pytest.mark.parametrize(("path", "lang"), [
    ("sum.c", "c"),
    ("dir.d/sum.cpp", "cpp"),
    ("sum.cc", "cpp"),
    ("sum.cxx", "cpp"),
    ("a.b.py", "python3"),
    ("Hello.java", "java"),
    ("sum.js", "javascript"),
])
def test_language_from_extension(path: str, lang: str) -> None:
    assert languages.by_extension(path).id == lang


@pytest.mark.parametrize("path", ["sum.rb", "Makefile", "sum.C", "sum.PY", "c"])
def test_unknown_extension_names_the_known_ones_and_the_way_out(path: str) -> None:
    with pytest.raises(UnknownLanguage) as e:
        languages.by_extension(path)
    assert "--lang" in str(e.value) and ".cpp" in str(e.value)


def test_lookup_by_id() -> None:
    assert languages.by_id("java") is java.JAVA
    with pytest.raises(UnknownLanguage, match="known: c, cpp"):
        languages.by_id("rust")


def test_lang_overrides_the_extension() -> None:
    assert languages.for_source("notes.txt", "python3").id == "python3"
    assert languages.for_source("prog.c").id == "c"


def test_every_recipe_is_complete() -> None:
    for lang in languages.LANGUAGES:
        assert lang.image == "host"
        assert lang.run and lang.version and lang.self_test.source and lang.self_test.expected
        assert lang.run[0].startswith(("/", "./")), "argv[0] is absolute: no PATH surprises in the box"
        lim = lang.compile_limits
        assert lim.cpu_time_ms <= 30_000 and lim.output_bytes <= 1 * MiB, "compile limits must stay small"


@pytest.mark.parametrize(("source", "name"), [
    ("public class Hello { }", "Hello"),
    ("public final class Solution<T> extends Base {}", "Solution"),
    ("public abstract class A$1 {}", "A$1"),
    ("public interface Runner {}", "Runner"),
    ("public enum Colour { RED }", "Colour"),
    ("public record Point(int x) {}", "Point"),
    ("public class Ünïcode {}", "Ünïcode"),
    ("class Main {}\npublic class Second {}", "Second"),
    ("import java.util.*;\npublic\nclass\nSpread {}", "Spread"),
    ("// public class Comment {}\npublic class Real {}", "Real"),
    ("/* public class Block {} */ public class Real {}", "Real"),
    ('class A { String s = "public class Str {"; }\npublic class Real {}', "Real"),
    ("class A { char c = '\"'; String s = \"}\"; }\npublic class Real {}", "Real"),
    ('class A { String t = """\n  public class Text {\n  """; }\npublic class Real {}', "Real"),
    ("class Main { public class Inner {} public static class Nested {} }", None),
    ("class Main { public static void main(String[] a) {} }", None),
    ("// nothing but a comment", None),
    ("notpublic class X {}", None),
])
def test_java_public_class(source: str, name: str | None) -> None:
    assert java.public_class(source) == name
    assert java.JAVA.source_file(source) == f"{name or 'Main'}.java"


def test_other_languages_use_a_fixed_source_name() -> None:
    assert languages.by_id("c").source_file("public class X {}") == "main.c"


def test_expand_fills_the_placeholders() -> None:
    argv = ["java", "-Xmx{memory_mib}m", "{stem}", "{source}", "plain"]
    assert expand(argv, source_name="Hello.java", memory_bytes=256 * MiB) == [
        "java", "-Xmx256m", "Hello", "Hello.java", "plain"]


def test_run_limits_add_the_allowance_only_where_the_recipe_says() -> None:
    user = Limits(cpu_time_ms=1000, wall_time_ms=3000, memory_bytes=128 * MiB)
    assert languages.by_id("c").run_limits(user) == user
    jl = java.JAVA.run_limits(user)
    assert (jl.cpu_time_ms, jl.wall_time_ms, jl.memory_bytes) == (1250, 3250, 192 * MiB)
    assert jl.output_bytes == user.output_bytes
