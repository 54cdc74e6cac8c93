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

Answer header (payload empty)::

    {"ok": True, "duration_ms": int | None, "has_video": bool, "has_audio": bool,
     "video_codec": str | None, "audio_codec": str | None, "codecs": [str, ...],
     "width": int | None, "height": int | None}

or ``{"ok": False, "reason": "..."}`` for a file that cannot be played.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.extract_worker import Refused, open_media
from app.workers import damaged

MAX_PROBE_PACKETS = 400
"""Packets read at most while looking for a first decoded frame of each stream."""

_MAX_DURATION_MS = 1_000_000 * 3600 * 1000  # a million hours: past that the header lies


def handle(request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """A viewer worker's "media" job (:data:`app.workers.Handler`)."""
    job = request.get("job")
    path = request.get("path")
    if job != "media.probe" or not isinstance(path, str):
        return {"ok": False, "reason": f"unknown job {job!r}"}, b""
    try:
        return probe(Path(path)), b""
    except Refused as exc:
        return {"ok": False, "reason": str(exc)}, b""
    except Exception as exc:  # PyAV raises many kinds on damaged files
        return damaged("file", exc), b""


def probe(path: Path) -> dict[str, Any]:
    """What a player needs to know about the media file at ``path``.

    Returns:
        The "ok" answer described in the module docstring, or a "not ok" one
        when no stream decodes.

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
        codecs = [
            str(s.codec_context.name)
            for s in (video, audio)
            if s is not None and s.codec_context is not None
        ]
        if video is None and audio is None:
            return {"ok": False, "reason": "the file holds no sound or picture"}
        decoded = _first_frames(av, container, [s for s in (video, audio) if s is not None])
        has_video = video is not None and video.index in decoded
        has_audio = audio is not None and audio.index in decoded
        if not has_video and not has_audio:
            return {"ok": False, "reason": _undecodable_reason(codecs)}
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
        }


def _first_frames(av: Any, container: Any, streams: list[Any]) -> set[int]:
    """Indexes of ``streams`` whose first packets decode to at least one frame.

    A stream whose decoder fails is left out rather than failing the file:
    a video with a broken sound track still plays its pictures.
    """
    wanted = {s.index for s in streams}
    decoded: set[int] = set()
    broken: set[int] = set()
    packets = 0
    try:
        for packet in container.demux(streams):
            packets += 1
            index = packet.stream.index
            if index not in decoded and index not in broken:
                try:
                    if packet.decode():
                        decoded.add(index)
                except av.error.FFmpegError:
                    broken.add(index)
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
