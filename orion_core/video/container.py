"""What a media container really holds, checked with PyAV (libav) before anything trusts it.

Two levels, both much cheaper than decoding a video to RGB:

1. **Structure** (always): open the container, find a video stream, then *demux* every packet
   without decoding it. Demuxing reads the bytes but runs no codec, so it costs about 1-5 % of a decode
   (measured: 25 ms for bigbuckbunny.mp4, whose decode to RGB takes ~500 ms). It is what catches
   truncation: the packet count must match the frame count the index declares (mp4/avi), the packets
   must cover the duration the header declares (mkv stores no frame count) and no packet may reach past
   the end of the file.
2. **Decode** (``decode=True``): decode the first frame and the last key frame (its whole GOP when
   that is at most ``tail_frames`` long), proving the codec accepts the data at both ends at the cost of
   a few frame decodes. ``deep=True`` decodes every frame and requires as many frames as packets.

PyAV is used here even though frames are read with decord: decord exposes no packets or byte positions
and aborts on some broken files, while libav through PyAV raises Python exceptions we can classify.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import av

from .errors import (
    NotAVideoError,
    NoVideoStreamError,
    TruncatedVideoError,
    UndecodableError,
)

# Errors libav surfaces through PyAV for bad bytes (FFmpegError covers InvalidDataError, EOFError, ...).
_AV_ERRORS = (av.FFmpegError, OSError, EOFError, ValueError)


def container_signature(head: bytes) -> str | None:
    """Name of the container family whose magic bytes start ``head``, or None.

    Used only after libav failed to open a file: recognised magic means the file *was* a video whose
    data is incomplete (an mp4 cut before its moov atom), unrecognised bytes mean it never was one.
    """
    if len(head) >= 8 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"):
        return "mp4/mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska/webm"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(b"FLV"):
        return "flv"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"\x00\x00\x01\xba"):
        return "mpeg-ps"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "asf/wmv"
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return "mpeg-ts"
    return None


@dataclass(frozen=True)
class ContainerFacts:
    """Checked facts about a video file's first video stream."""

    frames: int
    """Video packets present (= frames a full decode yields for the codecs we meet)."""
    fps: float | None
    """Average frame rate (``None`` when the container declares none)."""
    width: int
    height: int
    codec: str
    """libav decoder name (``h264``, ``mpeg4``, ``vp9``, ...)."""
    container: str
    """libav demuxer name (``mov,mp4,m4a,3gp,3g2,mj2``, ``matroska,webm``, ``avi``, ...)."""
    key_frames: int
    """Key-frame packets seen (1 means every seek re-decodes from the start)."""


@dataclass
class _Layout:
    packets: int = 0
    key_frames: int = 0
    last_key_index: int = 0
    last_key_pts: int | None = None
    first_pts: int | None = None
    end_s: float = 0.0
    """Latest packet end over ALL streams, in seconds from the video's first packet."""
    durations_known: bool = True
    """Every packet carried its duration (so ``end_s`` is exact, not one frame short)."""


def _open(path: str) -> av.container.InputContainer:
    try:
        return av.open(path, mode="r")
    except _AV_ERRORS as exc:
        kind = signature_of(path)
        if kind:
            raise TruncatedVideoError(path, f"{kind} header present but libav cannot open it: {exc}") from exc
        raise NotAVideoError(path, f"no container format recognised: {exc}") from exc


def signature_of(path: str) -> str | None:
    """:func:`container_signature` of the file's first bytes."""
    with open(path, "rb") as fh:
        return container_signature(fh.read(512))


def _demux(path: str, container, video, size: int) -> _Layout:
    """Walk every packet of every stream (no decoding); raise TruncatedVideoError when data is missing.

    All streams, not just the video: the I/O is the same (packets are interleaved in the file) and the
    audio track's end tells a legitimately short video track from a cut-off file.
    """
    layout = _Layout()
    latest_end_s = 0.0  # absolute end time of the latest packet, any stream
    last_cut = False
    try:
        for packet in container.demux():
            if packet.size == 0:  # the flush packets at EOF carry no data
                continue
            if packet.pos is not None and packet.pos >= 0 and packet.pos + packet.size > size:
                raise TruncatedVideoError(path, f"a {packet.stream.type} packet reaches past the end of the file")
            # libav shortens a packet cut by EOF to the bytes present and flags it corrupt; only the LAST
            # packet being corrupt means a cut file (damaged packets mid-stream are the decoder's business).
            last_cut = packet.is_corrupt
            if packet.pts is not None and packet.stream.time_base is not None:
                end = float((packet.pts + (packet.duration or 0)) * packet.stream.time_base)
                latest_end_s = max(latest_end_s, end)
                layout.durations_known &= bool(packet.duration)
            if packet.stream.index != video.index:
                continue
            if packet.is_keyframe:
                layout.key_frames += 1
                layout.last_key_index, layout.last_key_pts = layout.packets, packet.pts
            if packet.pts is not None:
                layout.first_pts = packet.pts if layout.first_pts is None else min(layout.first_pts, packet.pts)
            layout.packets += 1
    except av.EOFError as exc:
        raise TruncatedVideoError(path, f"unexpected end of data after {layout.packets} packets: {exc}") from exc
    except _AV_ERRORS as exc:
        raise UndecodableError(path, f"demuxing failed after {layout.packets} packets: {exc}") from exc
    if last_cut:
        raise TruncatedVideoError(path, "the last packet is cut off by the end of the file")
    if layout.first_pts is not None and video.time_base is not None:
        layout.end_s = latest_end_s - float(layout.first_pts * video.time_base)
    return layout


def _check_complete(path: str, container, stream, layout: _Layout) -> None:
    """Compare what the header promises with the packets that are actually there."""
    if layout.packets == 0:
        raise TruncatedVideoError(path, "video stream has no packets")
    declared = stream.frames or 0
    if declared and layout.packets < declared:
        raise TruncatedVideoError(path, f"index declares {declared} frames, only {layout.packets} packets present")
    # Duration check: the only one that works for mkv/webm, which store no frame count. The header's
    # duration spans all streams, so it is compared with the latest packet end over all streams.
    promised = container.duration / av.time_base if container.duration else None
    if stream.duration and stream.time_base is not None:
        promised = max(promised or 0.0, float(stream.duration * stream.time_base))
    if not promised:
        return
    rate = stream.average_rate or stream.guessed_rate
    frame_s = float(1 / rate) if rate else 0.04
    # Half a frame absorbs rounding of the header's duration yet still catches one lost frame; without
    # packet durations the last packet's end is unknown, so allow it one more frame.
    slack = frame_s * (0.5 if layout.durations_known else 1.5)
    if layout.end_s + slack < promised:
        raise TruncatedVideoError(path, f"packets cover {layout.end_s:.2f} s of the declared {promised:.2f} s")


def _decode_check(path: str, layout: _Layout, *, deep: bool, tail_frames: int) -> None:
    """Decode the first frame and the last key frame's GOP (everything when ``deep``), no RGB conversion."""
    try:
        with av.open(path, mode="r") as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if deep:
                decoded = sum(1 for _ in container.decode(stream))
                if decoded < layout.packets:
                    raise UndecodableError(path, f"decoded {decoded} of {layout.packets} frames")
                return
            frames = container.decode(stream)
            if next(frames, None) is None:
                raise UndecodableError(path, "no frame decodes")
            tail_len = layout.packets - layout.last_key_index
            if layout.last_key_index == 0 or layout.last_key_pts is None:
                if tail_len <= tail_frames:  # one short GOP: finish it
                    sum(1 for _ in frames)
                return
            # PyAV's seek flushes the decoder, so the tail is decoded from the last key frame alone.
            container.seek(layout.last_key_pts, stream=stream, backward=True, any_frame=False)
            limit = tail_len if tail_len <= tail_frames else 1
            got = 0
            for _ in container.decode(stream):
                got += 1
                if got >= limit:
                    break
            if got == 0:
                raise UndecodableError(path, "the last key frame does not decode")
    except UndecodableError:
        raise
    except _AV_ERRORS as exc:
        raise UndecodableError(path, f"decoder rejected the data: {exc}") from exc


def inspect_container(path: str, *, decode: bool = True, deep: bool = False, tail_frames: int = 32) -> ContainerFacts:
    """Check the video at ``path`` (an existing, non-empty file) and return its facts.

    Args:
        decode: also decode the first frame and the last GOP (see module doc); False = structure only.
        deep: decode every frame (slow; for audits).
        tail_frames: longest last GOP that ``decode`` decodes in full; a longer one gets only its key
            frame decoded, so the check stays at a few frame decodes whatever the video's length (cut-off
            data is caught by the demux, which reads every packet).

    Raises:
        NotAVideoError, TruncatedVideoError, NoVideoStreamError, UndecodableError
    """
    size = os.path.getsize(path)
    with _open(path) as container:
        if not container.streams.video:
            kinds = [s.type for s in container.streams]
            if not {"audio", "subtitle"} & set(kinds) and signature_of(path):
                # A known container with no media streams at all: its index (moov) was cut mid-way.
                raise TruncatedVideoError(path, f"container index lists no media streams ({kinds or 'none'})")
            raise NoVideoStreamError(path, f"streams present: {', '.join(kinds) or 'none'}")
        stream = container.streams.video[0]
        layout = _demux(path, container, stream, size)
        _check_complete(path, container, stream, layout)
        rate: Fraction | None = stream.average_rate or stream.guessed_rate or stream.base_rate
        ctx = stream.codec_context
        facts = ContainerFacts(
            frames=layout.packets, fps=float(rate) if rate else None, width=int(ctx.width), height=int(ctx.height),
            codec=ctx.name, container=container.format.name, key_frames=layout.key_frames,
        )
    if facts.width <= 0 or facts.height <= 0:
        raise UndecodableError(path, f"video stream has no frame size ({facts.width}x{facts.height})")
    if decode or deep:
        _decode_check(path, layout, deep=deep, tail_frames=tail_frames)
    return facts
