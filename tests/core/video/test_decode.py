"""read_frames / read_all_frames: one ascending pass per call, caller's order, decord -> PyAV fallback.

Decoder passes are counted by wrapping the real decord.VideoReader / PyAV containers (they still decode);
nothing under test is replaced.
"""

from __future__ import annotations

import av
import decord
import pytest

from orion_core.video import errors
from orion_core.video.decode import DecodeStats, read_all_frames, read_frames
from orion_core.video.sampling import sample_frames, uniform_indices

from .conftest import decoded_index


@pytest.fixture
def decord_spy(monkeypatch):
    """Count decord readers opened and the frame indices read through them."""
    calls = {"opened": 0, "reads": [], "batches": 0}

    class CountingReader(decord.VideoReader):
        def __init__(self, *args, **kwargs):
            calls["opened"] += 1
            super().__init__(*args, **kwargs)

        def __getitem__(self, idx):
            calls["reads"].append(idx)
            return super().__getitem__(idx)

        def get_batch(self, indices):
            calls["batches"] += 1
            return super().get_batch(indices)

    monkeypatch.setattr(decord, "VideoReader", CountingReader)
    return calls


@pytest.fixture
def pyav_spy(monkeypatch):
    """Count PyAV containers opened, decode() passes started and frames they yielded."""
    calls = {"opened": 0, "decode_passes": 0, "frames": 0}
    real_open = av.open

    class Spy:
        def __init__(self, container):
            self._c = container

        def __getattr__(self, name):
            return getattr(self._c, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self._c.__exit__(*exc)

        def decode(self, *args, **kwargs):
            calls["decode_passes"] += 1
            for frame in self._c.decode(*args, **kwargs):
                calls["frames"] += 1
                yield frame

    def spy_open(*args, **kwargs):
        calls["opened"] += 1
        return Spy(real_open(*args, **kwargs))

    monkeypatch.setattr(av, "open", spy_open)
    return calls


def test_sample_frames_decodes_once_with_decord(media, decord_spy, pyav_spy):
    counts = {"t_v": 8, "t_o": 32, "n": 16}
    out = sample_frames(media["one_key_mp4"], counts)  # single key frame: the case where re-seeking hurts
    union = sorted({i for f in out.values() for i in f.indices})
    assert decord_spy["opened"] == 1 and decord_spy["batches"] == 0
    assert decord_spy["reads"] == union  # every needed frame once, strictly ascending: never seeks back
    assert pyav_spy["decode_passes"] == 0  # the structural check only demuxes
    assert len(union) < sum(counts.values())  # the samplers overlap; the union is what was decoded


def test_sample_frames_decodes_once_with_pyav(media, decord_spy, pyav_spy):
    stats = DecodeStats()
    out = sample_frames(media["good_mkv"], {"t_v": 8, "t_o": 16}, decoder="pyav", stats=stats)
    last = max(max(f.indices) for f in out.values())
    assert decord_spy["opened"] == 0
    assert pyav_spy["decode_passes"] == 1 and pyav_spy["frames"] == last + 1  # stops at the last wanted frame
    assert (stats.decoder, stats.passes) == ("pyav", 1)


def test_read_frames_keeps_caller_order_and_repeats(media, decord_spy):
    indices = [17, 3, 17, 0, 39, 3]
    frames = read_frames(media["good_mp4"], indices)
    assert frames.shape == (6, 48, 64, 3)
    assert [decoded_index(f) for f in frames] == indices
    assert decord_spy["reads"] == [0, 3, 17, 39]


def test_read_frames_rejects_out_of_range(media):
    with pytest.raises(IndexError):
        read_frames(media["good_mp4"], [0, 40])
    with pytest.raises(IndexError):
        read_frames(media["good_mp4"], [-1])
    with pytest.raises(ValueError):
        read_frames(media["good_mp4"], [0], decoder="opencv")
    assert read_frames(media["good_mp4"], []).shape == (0, 48, 64, 3)


def test_read_all_frames_is_every_frame_in_order(media):
    for decoder in ("auto", "decord", "pyav"):
        stats = DecodeStats()
        frames = read_all_frames(media["good_fast_mp4"], decoder=decoder, stats=stats)
        assert [decoded_index(f) for f in frames] == list(range(40))
        assert stats.decoder == ("pyav" if decoder == "auto" else decoder)  # auto: whole-file reads -> PyAV


def test_falls_back_to_pyav_when_decord_refuses(media, monkeypatch):
    class Refusing:
        def __init__(self, *args, **kwargs):
            raise decord.DECORDError("simulated: decord cannot open this file")

    monkeypatch.setattr(decord, "VideoReader", Refusing)
    stats = DecodeStats()
    out = sample_frames(media["good_mp4"], {"t_v": 8}, stats=stats)["t_v"]
    assert [decoded_index(f) for f in out.images] == uniform_indices(40, 8)
    assert (stats.decoder, stats.passes) == ("pyav", 2) and "simulated" in stats.fallback
    with pytest.raises(errors.UndecodableError, match="simulated"):
        sample_frames(media["good_mp4"], {"t_v": 8}, decoder="decord")


def test_falls_back_when_decord_miscounts_frames(media, monkeypatch):
    class Miscounting(decord.VideoReader):
        def __len__(self):
            return super().__len__() + 3  # what decord does when it estimates a count from a header

    monkeypatch.setattr(decord, "VideoReader", Miscounting)
    stats = DecodeStats()
    frames = read_frames(media["good_mkv"], [0, 39], stats=stats)
    assert [decoded_index(f) for f in frames] == [0, 39]
    assert stats.decoder == "pyav" and "43" in stats.fallback



def test_failed_probe_passed_in_raises_its_typed_error(media):
    from orion_core.video.probe import probe

    info = probe(media["truncated_mkv"])
    with pytest.raises(errors.TruncatedVideoError):
        read_frames(media["truncated_mkv"], [0], info=info)
    with pytest.raises(errors.TruncatedVideoError):
        sample_frames(media["truncated_mkv"], {"t_v": 8}, info=info)
