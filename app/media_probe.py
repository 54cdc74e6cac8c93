"""The "media" job family of the viewer workers: is this audio or video playable?

The preview pane's player (``ui/viewers/media_player.py``) hands a file to Qt
Multimedia, which decodes with FFmpeg inside the application. A hostile file
should cost a worker process first: ``"media.probe"`` opens the container
with PyAV in a viewer worker (limited memory, a time limit), reads its
streams and decodes the first frames of the one video and the one audio
stream a player would pick. Only a file with at least one stream that really
decodes is then given to the player. Runs in a worker process
(:mod:`app.viewer_jobs`); no Qt here.

Request: ``{"job": "media.probe", "path": str}``.

Answer header::

    {"ok": True, "duration_ms": int | None, "has_video": bool, "has_audio": bool,
     "video_codec": str | None, "audio_codec": str | None, "codecs": [str, ...],
     "width": int | None, "height": int | None,
     "cover": {"width": int, "height": int, "stride": int} | None}

with the cover art of an audio file (its attached picture), or a video's first
frame, scaled to fit :data:`MAX_COVER_SIDE`, as the payload, raw RGB888 rows of ``stride`` bytes;
an empty payload when there is no cover. ``{"ok": False, "reason": "..."}``
for a file that cannot be played.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.extract_worker import Refused, open_media
from app.workers import damaged

MAX_PROBE_PACKETS = 400
"""Packets read at most while looking for a first decoded frame of each stream."""

MAX_COVER_SIDE = 512
"""The cover art's longest side in the answer, in pixels (a preview, not the original)."""

_MAX_COVER_PIXELS = 64_000_000  # a bigger "cover" is a bomb, not art: skipped
_MAX_DURATION_MS = 1_000_000 * 3600 * 1000  # a million hours: past that the header lies


def handle(request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """A viewer worker's "media" job (:data:`app.workers.Handler`)."""
    job = request.get("job")
    path = request.get("path")
    if job != "media.probe" or not isinstance(path, str):
        return {"ok": False, "reason": f"unknown job {job!r}"}, b""
    try:
        Path(path).stat()  # FFmpeg would call a missing file "damaged"
    except OSError as exc:
        return {"ok": False, "reason": f"the file could not be read ({exc.strerror})"}, b""
    try:
        return probe(Path(path))
    except Refused as exc:
        return {"ok": False, "reason": str(exc)}, b""
    except Exception as exc:  # PyAV raises many kinds on damaged files
        return damaged("file", exc), b""


def probe(path: Path) -> tuple[dict[str, Any], bytes]:
    """What a player needs to know about the media file at ``path``.

    Returns:
        The "ok" answer and cover payload described in the module docstring,
        or a "not ok" one when no stream decodes.

    Raises:
        Refused: the container cannot be opened.
        Exception: whatever PyAV raises on a damaged file.
    """
    av, container = open_media(path)
    with container:
        video = next(
            (
                s
                for s in container.streams.video
                if not s.disposition & av.stream.Disposition.attached_pic
            ),
            None,
        )
        audio = next(iter(container.streams.audio), None)
        cover_stream = next(
            (
                s
                for s in container.streams.video
                if s.disposition & av.stream.Disposition.attached_pic
                and 0 < s.codec_context.width * s.codec_context.height <= _MAX_COVER_PIXELS
            ),
            None,
        )
        codecs = [
            str(s.codec_context.name)
            for s in (video, audio)
            if s is not None and s.codec_context is not None
        ]
        if video is None and audio is None:
            return {"ok": False, "reason": "the file holds no sound or picture"}, b""
        if video is not None:
            # A video's picture before it plays is its own first frame.
            cover_stream = None
        covers: list[Any] = []
        decoded = _first_frames(
            av,
            container,
            [s for s in (video, audio) if s is not None],
            cover_stream,
            covers,
            video.index if video is not None else None,
        )
        has_video = video is not None and video.index in decoded
        has_audio = audio is not None and audio.index in decoded
        if not has_video and not has_audio:
            return {"ok": False, "reason": _undecodable_reason(codecs)}, b""
        cover, pixels = _cover_rgb(av, covers[0]) if covers else (None, b"")
        width = height = None
        if has_video and video is not None and video.codec_context.width:
            width, height = int(video.codec_context.width), int(video.codec_context.height)
        return {
            "ok": True,
            "duration_ms": _duration_ms(container, video if has_video else audio),
            "has_video": has_video,
            "has_audio": has_audio,
            "video_codec": video.codec_context.name if has_video and video else None,
            "audio_codec": audio.codec_context.name if has_audio and audio else None,
            "codecs": codecs,
            "width": width,
            "height": height,
            "cover": cover,
        }, pixels


def _first_frames(
    av: Any,
    container: Any,
    streams: list[Any],
    cover_stream: Any,
    covers: list[Any],
    poster_index: int | None = None,
) -> set[int]:
    """Indexes of ``streams`` whose first packets decode to at least one frame.

    A stream whose decoder fails is left out rather than failing the file:
    a video with a broken sound track still plays its pictures. The decoded
    cover picture of ``cover_stream`` (FFmpeg queues it first), if any, or
    else the first frame of the stream numbered ``poster_index`` (a video), is
    appended to ``covers``.
    """
    wanted = {s.index for s in streams}
    decoded: set[int] = set()
    broken: set[int] = set()
    packets = 0
    demuxed = streams + ([cover_stream] if cover_stream is not None else [])
    try:
        for packet in container.demux(demuxed):
            packets += 1
            index = packet.stream.index
            if cover_stream is not None and index == cover_stream.index:
                if not covers and packet.size:
                    try:
                        covers.extend(packet.decode()[:1])
                    except av.error.FFmpegError:
                        pass  # a broken cover: the player shows the icon
                continue
            if index not in decoded and index not in broken:
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:
                    broken.add(index)
                    frames = []
                if frames:
                    decoded.add(index)
                    if index == poster_index and not covers:
                        covers.append(frames[0])
            if decoded | broken >= wanted or packets >= MAX_PROBE_PACKETS:
                break
    except av.error.FFmpegError:
        pass  # a damaged tail: what decoded so far counts
    # Decoders hold frames back (B-frames, audio priming): flush what is left.
    for stream in streams:
        if stream.index in decoded or stream.index in broken:
            continue
        try:
            if stream.codec_context.decode(None):
                decoded.add(stream.index)
        except av.error.FFmpegError:
            pass
    return decoded


def _cover_rgb(av: Any, frame: Any) -> tuple[dict[str, int] | None, bytes]:
    """The cover ``frame`` scaled to fit :data:`MAX_COVER_SIDE`, as RGB888 rows."""
    width, height = int(frame.width), int(frame.height)
    if width <= 0 or height <= 0:
        return None, b""
    scale = min(1.0, MAX_COVER_SIDE / max(width, height))
    width, height = max(1, round(width * scale)), max(1, round(height * scale))
    try:
        rgb = frame.reformat(width=width, height=height, format="rgb24")
    except (av.error.FFmpegError, ValueError):
        return None, b""
    plane = rgb.planes[0]
    return {"width": width, "height": height, "stride": int(plane.line_size)}, bytes(plane)


def _undecodable_reason(codecs: list[str]) -> str:
    names = ", ".join(c for c in codecs if c) or "unknown"
    return f"none of its streams could be decoded ({names})"


def _duration_ms(container: Any, stream: Any) -> int | None:
    """The container's duration, else the stream's; None when unknown or absurd."""
    duration: float | None = None
    if container.duration:
        duration = container.duration / 1000  # microseconds
    elif stream is not None and stream.duration and stream.time_base:
        duration = float(stream.duration * stream.time_base) * 1000
    if duration is None or not 0 < duration < _MAX_DURATION_MS:
        return None
    return int(duration)
