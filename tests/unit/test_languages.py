"""Language recipes: the registry, lookups, Java's public class, argv placeholders, allowances, images."""

from __future__ import annotations

import re

import pytest

from judge import languages
from judge.errors import UnknownLanguage
from judge.languages import java, kotlin
from judge.languages.recipe import Language, SelfTest, expand
from sandbox import Limits, MiB

NEW = {  # issue 22's languages, from languages.toml, and their images
    "c-clang": "clang",
    "cpp-clang": "clang",
    "objective-c": "gcc-extra",
    "fortran": "gcc-extra",
    "d": "gcc-extra",
    "ada": "gcc-extra",
    "nasm": "gcc-extra",
    "cobol": "gcc-extra",
    "nim": "gcc-extra",
    "ocaml": "gcc-extra",
    "gprolog": "gcc-extra",
    "swi-prolog": "scripting",
    "common-lisp": "scripting",
    "scheme": "scripting",
    "erlang": "beam",
    "elixir": "beam",
    "scala": "jvm-extra",
    "clojure": "jvm-extra",
    "groovy": "jvm-extra",
    "typescript": "typescript",
    "r": "r",
    "perl": "scripting",
    "awk": "scripting",
    "tcl": "scripting",
    "sql": "scripting",
    "brainfuck": "scripting",
    "octave": "octave",
}


def test_registry_order_and_ids() -> None:
    """The recipes in Python first, then languages.toml's, in the file's order."""
    assert languages.ids() == [
        "c",
        "cpp",
        "python3",
        "pypy3",
        "java",
        "kotlin",
        "javascript",
        "rust",
        "go",
        "csharp",
        "haskell",
        "pascal",
        "ruby",
        "php",
        "lua",
        "bash",
        *NEW,
    ]
    assert len(languages.ids()) >= 40


@pytest.mark.parametrize(
    ("path", "lang"),
    [
        ("sum.c", "c"),
        ("dir.d/sum.cpp", "cpp"),
        ("sum.cc", "cpp"),
        ("sum.cxx", "cpp"),
        ("a.b.py", "python3"),
        ("Hello.java", "java"),
        ("sum.js", "javascript"),
        ("sum.pypy", "pypy3"),
        ("Sum.kt", "kotlin"),
        ("sum.rs", "rust"),
        ("sum.go", "go"),
        ("sum.cs", "csharp"),
        ("sum.hs", "haskell"),
        ("sum.pas", "pascal"),
        ("sum.rb", "ruby"),
        ("sum.php", "php"),
        ("sum.lua", "lua"),
        ("sum.sh", "bash"),
        # the reference judges' extra extensions: problemtools' languages.yaml, DOMjudge's defaults
        ("sum.C", "cpp"),
        ("sum.py3", "python3"),
        ("sum.csharp", "csharp"),
        ("sum.lhs", "haskell"),
        ("sum.p", "pascal"),
        ("sum.mjs", "javascript"),
        ("sum.bash", "bash"),
        # issue 22's, with the reference judges' extensions (.plg DOMjudge's Prolog, .pl its Perl)
        ("sum.f95", "fortran"),
        ("sum.adb", "ada"),
        ("sum.ml", "ocaml"),
        ("sum.R", "r"),
        ("sum.awk", "awk"),
        ("sum.plg", "swi-prolog"),
        ("sum.pro", "gprolog"),
        ("sum.pl", "perl"),
        ("sum.lisp", "common-lisp"),
        ("sum.scala", "scala"),
        ("sum.b", "brainfuck"),
        ("sum.asm", "nasm"),
        ("sum.m", "objective-c"),
        ("sum.ts", "typescript"),
        ("sum.exs", "elixir"),
        ("sum.erl", "erlang"),
        ("sum.clang", "c-clang"),
    ],
)
def test_language_from_extension(path: str, lang: str) -> None:
    assert languages.by_extension(path).id == lang


@pytest.mark.parametrize("path", ["sum.swift", "Makefile", "sum.CPP", "sum.PY", "sum.kts", "c"])
def test_unknown_extension_names_the_known_ones_and_the_way_out(path: str) -> None:
    with pytest.raises(UnknownLanguage) as e:
        languages.by_extension(path)
    assert "--lang" in str(e.value) and ".cpp" in str(e.value)


def test_lookup_by_id() -> None:
    assert languages.by_id("java") is java.JAVA
    with pytest.raises(UnknownLanguage, match="known: c, cpp"):
        languages.by_id("swift")


def test_lang_overrides_the_extension() -> None:
    assert languages.for_source("notes.txt", "python3").id == "python3"
    assert languages.for_source("prog.c").id == "c"


def test_every_recipe_is_complete() -> None:
    for lang in languages.LANGUAGES:
        assert lang.run and lang.version and lang.self_test.source
        for argv in (lang.compile, lang.run, lang.version):
            assert argv is None or argv[0].startswith(("/", "./")), f"{lang.id}: argv[0] must be a path"
        lim = lang.compile_limits
        assert lim.cpu_time_ms <= 30_000 and lim.output_bytes <= 1 * MiB, "compile limits must stay small"


def test_every_language_runs_in_its_own_image() -> None:
    images = {lang.id: lang.image for lang in languages.LANGUAGES}
    assert images == {
        "c": "gcc",
        "cpp": "gcc",
        "python3": "python3",
        "pypy3": "pypy3",
        "java": "java",
        "kotlin": "kotlin",
        "javascript": "node",
        "rust": "rust",
        "go": "go",
        "csharp": "mono",
        "haskell": "ghc",
        "pascal": "fpc",
        "ruby": "ruby",
        "php": "php",
        "lua": "lua",
        "bash": "base",
        **NEW,
    }


def test_every_self_test_adds_two_numbers() -> None:
    """The same task everywhere, so a failing self-test reads the same in every language."""
    for lang in languages.LANGUAGES:
        assert (lang.self_test.stdin, lang.self_test.expected) == ("2 3\n", "5\n"), lang.id


def test_every_language_compiles_or_checks_its_source() -> None:
    """Interpreted languages get a syntax check as their compile step: a syntax error is CE, not RTE.
    SQL and Octave have none (neither can parse without running), as in Judge0."""
    assert [lang.id for lang in languages.LANGUAGES if lang.compile is None] == ["sql", "octave"]


@pytest.mark.parametrize("lang", languages.LANGUAGES, ids=lambda lang: lang.id)
def test_placeholders_are_the_known_ones(lang: Language) -> None:
    for argv in (lang.compile or (), lang.run, lang.version):
        for arg in argv:
            assert set(re.findall(r"{[^{}]*}", arg)) <= {
                "{source}",
                "{stem}",
                "{sources}",
                "{main}",
                "{memory_mib}",
            }, arg
    assert not any("{" in arg for arg in lang.version), "the version probe runs with no source"


@pytest.mark.parametrize("lang", languages.LANGUAGES, ids=lambda lang: lang.id)
def test_a_compiled_program_is_taken_out_of_the_compile_box(lang: Language) -> None:
    """What the run executes from /box is an artifact, executable when it is argv[0]."""
    if lang.run[0].startswith("./"):
        assert (lang.run[0][2:], 0o755) in lang.artifacts
    for arg in lang.run:
        if arg.endswith((".jar", ".exe")) and not arg.startswith("/"):  # a jar of the image is no artifact
            assert (arg, 0o644) in lang.artifacts


@pytest.mark.parametrize(
    ("source", "name"),
    [
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
        ('class A { char c = \'"\'; String s = "}"; }\npublic class Real {}', "Real"),
        ('class A { String t = """\n  public class Text {\n  """; }\npublic class Real {}', "Real"),
        ("class Main { public class Inner {} public static class Nested {} }", None),
        ("class Main { public static void main(String[] a) {} }", None),
        ("// nothing but a comment", None),
        ("notpublic class X {}", None),
    ],
)
def test_java_public_class(source: str, name: str | None) -> None:
    assert java.public_class(source) == name
    assert java.JAVA.source_file(source) == f"{name or 'Main'}.java"


def test_other_languages_use_a_fixed_source_name() -> None:
    assert languages.by_id("c").source_file("public class X {}") == "main.c"
    assert languages.by_id("kotlin").source_file('@file:JvmName("X")\nfun main() {}') == "main.kt"


def test_pypy_runs_python_files_but_does_not_take_their_extension() -> None:
    pypy = languages.by_id("pypy3")
    assert languages.by_extension("sum.py").id == "python3"
    assert pypy.extensions == (".pypy",) and pypy.source_name == "main.py"
    assert languages.for_source("sum.py", "pypy3") is pypy


def test_kotlin_runs_the_class_of_its_top_level_main() -> None:
    """Kotlin 2.4's manifest names MainKt even under @file:JvmName, so the class is worked out."""
    k = kotlin.KOTLIN
    assert k.compile is not None
    assert {"-include-runtime", "-d", "main.jar"} <= set(k.compile)
    assert k.run[0] == "/usr/bin/java" and k.run[-3:] == ("-cp", "main.jar", "{main}")
    assert k.artifacts == (("main.jar", 0o644),)
    main = kotlin.main_class
    assert main("main.kt", "fun main() {}") == "MainKt"
    assert main("sol/hello-world.kt", "fun main(args: Array<String>) {}") == "Hello_worldKt"
    assert main("main.kt", '@file:JvmName("Greeter")\nobject A { fun main() {} }\nfun main() {}') == "Greeter"
    assert main("main.kt", "package a.b\n\nsuspend fun main() {}") == "a.b.MainKt"
    assert main("main.kt", "object Main {\n    @JvmStatic fun main(args: Array<String>) {}\n}") is None


def test_jvm_languages_do_not_write_perf_data() -> None:
    """File locks fail in the box (ENOLCK); the JVM's perf-data file would print a warning on stdout."""
    for lang in (java.JAVA, kotlin.KOTLIN):
        assert "-XX:-UsePerfData" in lang.run
        assert lang.compile is not None and any(a.endswith("-XX:-UsePerfData") for a in lang.compile)
    assert any(a.endswith("-XX:-UsePerfData") for a in java.JAVA.version)
    assert "build.txt" in " ".join(kotlin.KOTLIN.version)  # Kotlin's version probe starts no JVM


def test_go_gets_one_processor_in_both_boxes() -> None:
    go = languages.by_id("go")
    assert go.env == (("GOMAXPROCS", "1"),)
    base = {"PATH": "/usr/bin:/bin", "HOME": "/box", "GOMAXPROCS": "64"}
    assert go.environment(base) == {"PATH": "/usr/bin:/bin", "HOME": "/box", "GOMAXPROCS": "1"}
    assert languages.by_id("c").environment(base) == base


@pytest.mark.parametrize("env", [(("", "x"),), (("A=B", "x"),), (("A\0", "x"),)])
def test_an_environment_variable_needs_a_proper_name(env: tuple[tuple[str, str], ...]) -> None:
    with pytest.raises(ValueError, match="environment variable"):
        Language(
            id="x",
            name="X",
            extensions=(".x",),
            source_name="main.x",
            compile=None,
            run=("./x",),
            version=("./x",),
            self_test=SelfTest(source="", stdin="", expected=""),
            env=env,
        )


def test_expand_fills_the_placeholders() -> None:
    argv = ["java", "-Xmx{memory_mib}m", "{stem}", "{source}", "plain"]
    assert expand(argv, source_name="Hello.java", memory_bytes=256 * MiB) == [
        "java",
        "-Xmx256m",
        "Hello",
        "Hello.java",
        "plain",
    ]


def test_run_limits_add_the_allowance_only_where_the_recipe_says() -> None:
    user = Limits(cpu_time_ms=1000, wall_time_ms=3000, memory_bytes=128 * MiB)
    assert languages.by_id("c").run_limits(user) == user
    jl = java.JAVA.run_limits(user)
    assert (jl.cpu_time_ms, jl.wall_time_ms, jl.memory_bytes) == (1250, 3250, 192 * MiB)
    assert jl.output_bytes == user.output_bytes


def test_allowances_only_for_runtimes_whose_start_needs_them() -> None:
    """(ms, MiB) added to every run; each figure is measured in the recipe's docstring."""
    allowances = {
        lang.id: (lang.extra_time_ms, lang.extra_memory_bytes // MiB)
        for lang in languages.LANGUAGES
        if lang.extra_time_ms or lang.extra_memory_bytes
    }
    assert allowances == {
        "java": (250, 64),
        "kotlin": (250, 64),
        "pypy3": (0, 32),
        "ruby": (100, 0),
        "javascript": (150, 0),
        "typescript": (150, 0),
        "scala": (250, 64),
        "clojure": (1000, 96),
        "groovy": (750, 64),
        "r": (200, 48),
        "erlang": (200, 32),
        "elixir": (400, 48),
        "octave": (150, 16),
    }


def test_heavy_compilers_get_more_room_than_the_default() -> None:
    default = languages.by_id("c").compile_limits
    assert kotlin.KOTLIN.compile_limits.memory_bytes > default.memory_bytes
    assert kotlin.KOTLIN.compile_limits.cpu_time_ms > default.cpu_time_ms
    assert languages.by_id("haskell").compile_limits.memory_bytes > default.memory_bytes
    assert languages.by_id("rust").compile_limits.cpu_time_ms > default.cpu_time_ms
