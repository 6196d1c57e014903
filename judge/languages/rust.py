"""Rust with the image's rustc: one file, edition 2021, optimised; std only, no crates.

`-C strip=debuginfo` drops the standard library's debug information, which would make hello
world 11 MiB instead of 450 KiB (the file is copied into every run box, whose memory pays
for it); a panic's message and location need none of it. rustc links through gcc, which the
rustc package depends on. Measured here: hello world compiles in 0.5 s of CPU and 66 MiB, a
100-line program with generics and collections in 2.5-3.1 s and 100 MiB. Code generation
runs on several threads, all billed, so the compile limit is 15 s of CPU rather than 10.
"""

from __future__ import annotations

from .recipe import Language, SelfTest, compile_limits

RUST = Language(
    id="rust",
    name="Rust",
    extensions=(".rs",),
    source_name="main.rs",
    image="rust",
    compile=("/usr/bin/rustc", "--edition", "2021", "-O", "-C", "strip=debuginfo", "-o", "main", "{source}"),
    main_pattern=r"\bfn\s+main\s*\(",
    run=("./main",),
    version=("/usr/bin/rustc", "--version"),
    artifacts=(("main", 0o755),),
    compile_limits=compile_limits(cpu_time_ms=15_000, wall_time_ms=30_000),
    self_test=SelfTest(
        source="use std::io::Read;\n\nfn main() {\n    let mut s = String::new();\n"
        "    std::io::stdin().read_to_string(&mut s).unwrap();\n"
        "    let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();\n"
        '    println!("{}", v[0] + v[1]);\n}\n',
        stdin="2 3\n",
        expected="5\n",
    ),
)
