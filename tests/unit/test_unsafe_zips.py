"""judge/problems/archive.py's CheckedZip: hostile zips refused, with the reason, before anything
is written; and `judge verify` never reads through a link that leaves the package.

Packages (unpack_zip) and the organisers' batches (judge/service/batches.py) share CheckedZip, so
these cases hold for both; tests/service/test_bad_input.py sends the same zips over HTTP. The
bounds are made small here (monkeypatch) so each zip is a few KB.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from judge import cli
from judge.problems import archive, package
from judge.problems.archive import CheckedZip
from judge.problems.files import PackageError

GOOD = {"problem.yaml": b"name: z\n", "data/secret/1.in": b"1\n", "data/secret/1.ans": b"1\n"}


def zip_bytes(
    entries: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED, modes: dict[str, int] | None = None
) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = method
            if modes and name in modes:
                info.external_attr = modes[name] << 16
            zf.writestr(info, data)
    return buf.getvalue()


def refused(data: bytes, fault: str, *, where: str = "p.zip", **bounds: int) -> PackageError:
    with pytest.raises(PackageError) as info:
        CheckedZip(data, "p.zip", **bounds).close()
    assert info.value.where == where, str(info.value)
    assert fault in info.value.fault, str(info.value)
    return info.value


def test_a_plain_zip_passes_and_reads_back() -> None:
    with CheckedZip(zip_bytes(GOOD), "p.zip") as zf:
        assert {i.filename: zf.read(i) for i in zf.infos} == GOOD


@pytest.mark.parametrize("name", ["../evil", "a/../../evil", "/etc/evil", "C:/evil", "a\\..\\..\\evil"])
def test_an_entry_escaping_its_folder(name: str) -> None:
    refused(zip_bytes({**GOOD, name: b"x"}), "a zip entry escaping its folder", where=f"p.zip:{name}")


@pytest.mark.parametrize(
    ("kind", "fault"),
    [
        (stat.S_IFLNK | 0o777, "a symlink entry"),
        (stat.S_IFCHR | 0o666, "a special file entry"),
        (stat.S_IFIFO | 0o644, "a special file entry"),
    ],
)
def test_links_and_special_files(kind: int, fault: str) -> None:
    data = zip_bytes({**GOOD, "data/secret/2.in": b"/etc/shadow"}, modes={"data/secret/2.in": kind})
    refused(data, fault, where="p.zip:data/secret/2.in")


def _patch_method(data: bytes, method: int) -> bytes:
    """The zip with its one entry's compression method changed in both headers."""
    raw = bytearray(data)
    local, central = raw.find(b"PK\x03\x04"), raw.find(b"PK\x01\x02")
    raw[local + 8 : local + 10] = struct.pack("<H", method)
    raw[central + 10 : central + 12] = struct.pack("<H", method)
    return bytes(raw)


def test_an_encrypted_entry_or_an_unknown_method() -> None:
    raw = bytearray(zip_bytes({"a.txt": b"x"}, method=zipfile.ZIP_STORED))
    central = raw.find(b"PK\x01\x02")
    raw[central + 8] |= 1  # the "encrypted" flag bit
    refused(bytes(raw), "encrypted", where="p.zip:a.txt")
    refused(
        _patch_method(zip_bytes({"a.txt": b"x"}, method=zipfile.ZIP_STORED), 99),
        "compressed with method 99",
        where="p.zip:a.txt",
    )


def test_not_a_zip_and_an_empty_zip() -> None:
    refused(b"PK nonsense, or a tarball, or an image", "not a readable zip file")
    refused(zip_bytes({}), "an empty zip")


def test_absurd_entry_counts_are_refused_before_the_directory_is_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    many = zip_bytes({f"junk/{i}": b"" for i in range(200)})
    refused(many, "declares 200 entries, more than 100", max_entries=100)
    # an end record that understates the count is caught once the directory is read
    at = many.rfind(b"PK\x05\x06")
    lying = many[: at + 8] + struct.pack("<HH", 5, 5) + many[at + 12 :]
    refused(lying, "200 entries, more than 100", max_entries=100)
    # and a central directory far bigger than the count needs is refused unread
    monkeypatch.setattr(archive, "DIRECTORY_BYTES_PER_ENTRY", 10)
    refused(many, "a central directory of", max_entries=1000)


def test_the_declared_total_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_ZIP_BYTES", 100_000)
    refused(
        zip_bytes({**GOOD, "big.in": os.urandom(60_000), "big2.in": os.urandom(60_000)}),
        "unpacks to 120012 bytes, more than 100000",
    )
    refused(zip_bytes({"a": b"x" * 5000}), "more than 1000", max_bytes=1000)  # a caller's own bound


def test_an_entry_that_expands_too_much(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "RATIO_FREE_BYTES", 10_000)
    refused(
        zip_bytes({**GOOD, "data/secret/0.in": bytes(1_000_000)}),
        "more than 100 times",
        where="p.zip:data/secret/0.in",
    )
    # the same bytes stored uncompressed are fine, and so is a small repetitive file
    CheckedZip(zip_bytes({"data/secret/0.in": bytes(1_000_000)}, method=zipfile.ZIP_STORED), "p.zip").close()
    CheckedZip(zip_bytes({"data/secret/0.in": bytes(10_000)}), "p.zip").close()


def test_an_archive_of_many_small_bombs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each entry is under the ratio check's floor; together they expand a thousand times."""
    monkeypatch.setattr(archive, "RATIO_FREE_BYTES", 100_000)
    refused(zip_bytes({f"data/secret/{i}.in": bytes(90_000) for i in range(20)}), "more than 100 times")


def test_entries_sharing_their_bytes_are_refused() -> None:
    """The overlapping ("non-recursive") zip bomb: many directory records, one compressed body."""
    one = zip_bytes({"a.in": bytes(100_000)})
    central, end = one.find(b"PK\x01\x02"), one.rfind(b"PK\x05\x06")
    record = one[central:end]
    copies = [record] + [record.replace(b"a.in", f"{c}.in".encode()) for c in "bcd"]
    directory = b"".join(copies)
    eocd = one[end : end + 8] + struct.pack("<HHII", 4, 4, len(directory), central) + one[end + 20 :]
    refused(one[:central] + directory + eocd, "overlaps a.in in the archive", where="p.zip:b.in")


def test_a_header_that_understates_its_size_stops_at_that_size(tmp_path: Path) -> None:
    """zipfile stops reading at the declared size and checks the CRC: a lie is a read error."""
    honest = zip_bytes({**GOOD, "data/secret/2.in": bytes(1_000_000)})
    raw = bytearray(honest)
    # (signature, offset of the uncompressed size, of the name's length, of the name): local, central
    for sig, size_at, length_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        i = -1
        while (i := raw.find(sig, i + 1)) >= 0:
            (length,) = struct.unpack("<H", raw[i + length_at : i + length_at + 2])
            if raw[i + name_at : i + name_at + length] == b"data/secret/2.in":
                raw[i + size_at : i + size_at + 4] = struct.pack("<I", 1000)
    z = tmp_path / "p.zip"
    z.write_bytes(bytes(raw))
    work = tmp_path / "work"
    with pytest.raises(PackageError, match="data/secret/2.in: cannot be unpacked"):
        package.load(z, workdir=work)
    assert all(f.stat().st_size <= 1000 for f in work.rglob("*") if f.is_file())


def test_a_nested_zip_stays_one_file(tmp_path: Path) -> None:
    inner = zip_bytes({"zeros": bytes(10_000_000)})
    z = tmp_path / "p.zip"
    z.write_bytes(zip_bytes({**GOOD, "attachments/inner.zip": inner}))
    problem = package.load(z, workdir=tmp_path / "work")
    assert (problem.root / "attachments/inner.zip").read_bytes() == inner
    assert not (problem.root / "attachments/zeros").exists()


def test_nothing_is_written_for_a_refused_zip(tmp_path: Path) -> None:
    z = tmp_path / "p.zip"
    z.write_bytes(zip_bytes({**GOOD, "data/secret/2.in": b"x", "../../evil": b"x"}))
    with pytest.raises(PackageError, match="escaping its folder"):
        package.load(z, workdir=tmp_path / "work")
    assert list((tmp_path / "work").iterdir()) == []
    assert not (tmp_path.parent / "evil").exists()


def test_judge_verify_refuses_a_link_out_of_the_package(tmp_path: Path) -> None:
    """Links leaving the package are refused before any file is read: a file and a folder."""
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "answers.txt").write_text("the hidden answers\n")
    root = tmp_path / "p"
    for name, data in GOOD.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "submissions/accepted").mkdir(parents=True)
    (root / "submissions/accepted/a.py").write_text("print(1)\n")
    for link, target in (("data/secret/2.ans", secret / "answers.txt"), ("data/secret/more", secret)):
        os.symlink(target, root / link)
        r = CliRunner().invoke(cli.main, ["verify", str(root), "--json"])
        assert r.exit_code != 0 and "leaves the package" in r.output, r.output
        assert "hidden answers" not in r.output
        os.unlink(root / link)
