"""Sealed outputs: written with their sha256, verified before reuse, moved aside (never used) when they changed."""

from __future__ import annotations

import numpy as np
import pytest

from orion_core.contracts.integrity import (IntegrityError, add_to_tree_seal, quarantine, reusable, seal_path,
                                            seal_tree, verify, verify_tree, write_sealed_json)
from orion_core.contracts.masklist import MaskList, MaskListError, object_from_masks


def _masklist() -> MaskList:
    mask = np.zeros((16, 16), bool)
    mask[2:9, 3:11] = True
    obj = object_from_masks({0: mask, 4: mask}, label="ball", key_frame=0, score=0.9)
    return MaskList(height=16, width=16, objects=(obj,), key_frames=(0,), frame_indices=(0, 4), num_frames=8)


def test_sealed_json_verifies_and_names_a_changed_file(tmp_path):
    path = write_sealed_json(tmp_path / "x.json", {"a": 1})
    assert seal_path(path).read_text().split() == [verify(path), "x.json"]  # sha256sum -c format
    path.write_text('{"a":2}')
    with pytest.raises(IntegrityError, match=r"x\.json: content changed"):
        verify(path)


def test_unsealed_file_is_not_reusable_and_is_moved_aside(tmp_path):
    path = tmp_path / "half.json"
    path.write_text("{}")  # a writer killed between the file and its seal
    seen = []
    assert not reusable(path, report=seen.append)
    assert "no seal" in seen[0].reason and not path.exists() and (tmp_path / "half.json.corrupt").exists()
    assert not reusable(tmp_path / "absent.json")  # absent: simply recompute, nothing reported


def test_masklist_with_one_changed_rle_character_is_not_reused(tmp_path):
    """Fault matrix: one character changed inside an RLE string was reported "cached" and used."""
    path = _masklist().save(tmp_path / "v.masks.json")
    text = path.read_text()
    i = text.index('"counts":"') + len('"counts":"') + 1
    path.write_text(text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1:])
    MaskList.load(path)  # still a well-formed mask list: only the seal can tell
    seen = []
    assert not reusable(path, report=seen.append)
    assert str(path) in str(seen[0])
    with pytest.raises(MaskListError, match="v.masks.json"):
        MaskList.load(tmp_path / "v.masks.json.corrupt", verify=True)


def test_masklist_that_is_not_utf8_names_the_file(tmp_path):
    """Fault matrix: four bytes making a mask list invalid UTF-8 raised a UnicodeDecodeError naming no file."""
    path = _masklist().save(tmp_path / "v.masks.json")
    data = bytearray(path.read_bytes())
    data[20:24] = b"\xff\xfe\xfd\xfc"
    path.write_bytes(bytes(data))
    with pytest.raises(MaskListError, match=r"v\.masks\.json"):
        MaskList.load(path)


def test_tree_seal_covers_every_file(tmp_path):
    folder = tmp_path / "export"
    (folder / "tok").mkdir(parents=True)
    (folder / "w.bin").write_bytes(b"\x00" * 64)
    (folder / "tok" / "t.json").write_text("{}")
    seal_tree(folder)
    verify_tree(folder)
    (folder / "lineage.json").write_text("{}")
    with pytest.raises(IntegrityError, match="not listed"):
        verify_tree(folder)
    add_to_tree_seal(folder, folder / "lineage.json")
    verify_tree(folder)
    (folder / "tok" / "t.json").unlink()
    with pytest.raises(IntegrityError, match="missing"):
        verify_tree(folder)
    moved = quarantine(folder)
    assert moved.name == "export.corrupt" and not folder.exists()
