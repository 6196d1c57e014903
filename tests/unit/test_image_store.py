"""The image store's bookkeeping and the image definitions, without building or booting anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from judge import images
from judge.errors import JudgeError
from sandbox.build import Apt, Debootstrap, layer_digest
from sandbox.store import ImageStore, StoreError

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def _defs(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "images.toml"
    path.write_text(text)
    return path


BASE = '[base]\ndebootstrap = "bookworm"\n'


def test_the_repository_definitions_are_valid_and_build_on_one_base() -> None:
    defs = images.definitions()
    assert len(defs) >= 14
    bottoms = {images.planned_layers(defs, name)[0] for name in defs}
    assert len(bottoms) == 1, "every image shares the one debootstrap layer"
    assert images.planned_layers(defs, "kotlin")[:2] == images.planned_layers(defs, "java")


def test_changing_a_layer_changes_it_and_everything_above_only(tmp_path: Path) -> None:
    one = images.definitions(
        _defs(
            tmp_path, BASE + '[a]\nfrom = "base"\npackages = ["hello"]\n[b]\nfrom = "a"\npackages = ["sl"]\n'
        )
    )
    two = images.definitions(
        _defs(
            tmp_path,
            BASE + '[a]\nfrom = "base"\npackages = ["hello", "x"]\n[b]\nfrom = "a"\npackages = ["sl"]\n',
        )
    )
    before, after = images.planned_layers(one, "b"), images.planned_layers(two, "b")
    assert before[0] == after[0]
    assert before[1] != after[1] and before[2] != after[2]
    # package order does not matter; the parent does
    assert layer_digest(Apt(("a", "b")), D1) == layer_digest(Apt(("b", "a")), D1)
    assert layer_digest(Apt(("a",)), D1) != layer_digest(Apt(("a",)), D2)
    assert layer_digest(Debootstrap("bookworm"), None) != layer_digest(Debootstrap("trixie"), None)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (BASE + '[a]\nfrom = "nowhere"\npackages = ["x"]\n', "not defined"),
        ('[a]\nfrom = "b"\npackages = ["x"]\n[b]\nfrom = "a"\npackages = ["x"]\n', "cycle"),
        (BASE + '[a]\nfrom = "base"\npackages = ["x; rm -rf /"]\n', "not Debian package names"),
        (BASE + '[a]\nfrom = "base"\npackages = ["x"]\ncolour = "red"\n', "unknown keys"),
        (BASE + '[Bad_Name]\nfrom = "base"\npackages = ["x"]\n', "cannot name an image"),
        (BASE + '[a]\npackages = ["x"]\n', "needs"),
        ("[a\n", "cannot read"),
    ],
)
def test_a_bad_definition_is_refused_with_its_reason(tmp_path: Path, text: str, complaint: str) -> None:
    with pytest.raises(images.ImageDefinitionError, match=complaint):
        images.definitions(_defs(tmp_path, text))


def test_a_layer_is_committed_whole_or_not_at_all(tmp_path: Path) -> None:
    st = ImageStore(str(tmp_path / "store"))
    with st.locked():
        with pytest.raises(RuntimeError), st.new_layer(D1, {"source": "test"}) as tree:
            Path(tree, "half").write_text("x")
            raise RuntimeError("the build broke")
        assert not st.has_layer(D1)
        assert os.listdir(st.tmp_dir) == []
        with st.new_layer(D1, {"source": "test"}) as tree:
            Path(tree, "file").write_text("x")
        assert st.has_layer(D1)
        assert Path(st.layer_path(D1), "file").read_text() == "x"
        assert st.layer_info(D1)["source"] == "test"


def test_an_image_names_only_committed_layers_and_boxes_stack_them_top_first(tmp_path: Path) -> None:
    st = ImageStore(str(tmp_path / "store"))
    with st.locked():
        with pytest.raises(StoreError, match="not in the store"):
            st.commit_image("img", [D1], {})
        for d in (D1, D2):
            with st.new_layer(d, {}):
                pass
        st.commit_image("img", [D1, D2], {"source": "test"})
    image = st.image("img")
    assert image is not None
    (op,) = image.root_plan()
    assert op.kind == "overlay"
    assert op.args[1] == f"{'2' * 64}:{'1' * 64}"  # top layer first, as overlayfs wants
    assert st.image("other") is None
    assert st.names() == ["img"]


def test_prune_keeps_used_layers_and_removes_the_rest(tmp_path: Path) -> None:
    st = ImageStore(str(tmp_path / "store"))
    with st.locked():
        for d in (D1, D2):
            with st.new_layer(d, {}) as tree:
                Path(tree, "f").write_bytes(b"x" * 10000)
        st.commit_image("img", [D1], {})
        os.mkdir(os.path.join(st.layers_dir, "3" * 64))  # an interrupted build's leftover
        removed, freed = st.prune()
    assert sorted(removed) == sorted([D2, "sha256:" + "3" * 64])
    assert freed >= 10000
    assert st.has_layer(D1) and not st.has_layer(D2)
    with st.locked():
        st.remove_image("img")
        with pytest.raises(StoreError, match="no image named 'img'"):
            st.remove_image("img")
        removed, _ = st.prune()
    assert removed == [D1]


def test_unknown_images_are_named_with_what_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUDGE_IMAGE_DIR", str(tmp_path / "empty"))
    with pytest.raises(JudgeError, match="defined in images.toml: build it with `judge images build gcc`"):
        images.get("gcc")
    with pytest.raises(JudgeError, match="no image named 'nope'; images here: host"):
        images.get("nope")
    assert images.get("host").name == "host"
