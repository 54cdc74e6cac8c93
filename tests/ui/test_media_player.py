"""The preview pane's media player on real clips from the shared corpus.

Qt Multimedia runs offscreen with its FFmpeg backend; without a sound server
the audio output is a null sink whose clock still advances, so positions move
as they would with speakers. Probes go to a real viewer worker process.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.workers import WorkerPool
from ui.tasks import TaskManager
from ui.viewers.base import ViewerServices, ViewerSource
from ui.viewers.media_player import MediaPlayer, clock, cover_image

# Qt Multimedia's warnings on a machine without sound server or GPU are allowed
# project-wide (pyproject.toml, qt_log_ignore).

WAIT = 20_000  # ms; a loaded 2-core machine spawning a worker is slow, never wrong


@pytest.fixture
def player(qtbot: QtBot, pool: WorkerPool, tmp_path: Path) -> Iterator[MediaPlayer]:
    tasks = TaskManager()
    viewer = MediaPlayer(ViewerServices(tasks=tasks, workers=pool, cache_dir=tmp_path))
    qtbot.addWidget(viewer)
    viewer.resize(480, 360)
    viewer.show()
    qtbot.waitExposed(viewer)
    yield viewer
    viewer.stop()
    tasks.shutdown()


def source(path: Path, kind: str) -> ViewerSource:
    mime = {"audio": "audio/mpeg", "video": "video/webm"}[kind]
    return ViewerSource(
        file_id=1,
        name=path.name,
        mime=mime,
        kind=kind,
        path=path,
        blob_hash="0" * 64,
        size=path.stat().st_size,
    )


def load(qtbot: QtBot, player: MediaPlayer, path: Path, kind: str) -> None:
    failures: list[str] = []
    player.failed.connect(failures.append)
    with qtbot.waitSignal(player.ready, timeout=WAIT):
        player.show_source(source(path, kind))
    assert failures == []


def pyav_duration_ms(path: Path) -> int:
    """The duration as PyAV reads it (a valid file: safe to open in the test process)."""
    import av

    with av.open(str(path)) as container:
        return int(container.duration / 1000)


def focus(qtbot: QtBot, player: MediaPlayer) -> None:
    """Keyboard focus inside the player, in an active window, as after a click."""
    player.activateWindow()
    player.setFocus()
    qtbot.waitUntil(lambda: player.isActiveWindow(), timeout=WAIT)


def test_clock() -> None:
    assert clock(0) == "0:00"
    assert clock(12_400) == "0:12"
    assert clock(185_000) == "3:05"
    assert clock(3_723_000) == "1:02:03"
    assert clock(-5) == "0:00"


def test_audio_loads_without_playing_and_shows_its_tags(
    qtbot: QtBot, player: MediaPlayer, corpus: Path
) -> None:
    path = corpus / "media" / "silence-44-s.mp3"
    load(qtbot, player, path, "audio")
    assert player.loaded
    assert not player.has_video
    assert abs(player.duration_ms - pyav_duration_ms(path)) < 100
    assert not player.playing  # no autoplay
    assert player.position_ms == 0
    assert player._time.text() == "0:00 / 0:03"
    # The mp3's ID3 tags, as the player reports them.
    qtbot.waitUntil(lambda: player._title.text() == "Silence", timeout=WAIT)
    assert "piman" in player._details.text()
    assert "Quod Libet Test Data" in player._details.text()
    assert player._screen.currentIndex() == 2  # the audio page, not the video


def test_audio_shows_its_cover_art(qtbot: QtBot, player: MediaPlayer, corpus: Path) -> None:
    load(qtbot, player, corpus / "media" / "fixture-id3v2.flac", "audio")  # a 650×650 JPEG
    assert not player.has_video  # an attached picture is not a video
    qtbot.waitUntil(lambda: player._poster.has_cover, timeout=WAIT)
    assert player._poster._cover.size().width() == 512  # decoded in the worker, scaled
    # A 1×1 pixel "cover" says nothing: the audio icon instead.
    load(qtbot, player, corpus / "media" / "silence-44-s.flac", "audio")
    assert not player._poster.has_cover


def test_cover_image_checks_the_workers_sizes() -> None:
    rgb = bytes(range(12)) * 2  # 2×2 pixels, rows of 12 bytes (6 used)
    image = cover_image({"width": 2, "height": 2, "stride": 12}, rgb)
    assert image is not None
    assert (image.width(), image.height()) == (2, 2)
    assert image.pixelColor(1, 0).getRgb()[:3] == (3, 4, 5)
    assert cover_image(None, rgb) is None
    assert cover_image({"width": 2, "height": 2, "stride": 12}, rgb[:-1]) is None  # short
    assert cover_image({"width": 5, "height": 2, "stride": 12}, rgb) is None  # stride too small
    assert cover_image({"width": 0, "height": 2, "stride": 12}, rgb) is None
    assert cover_image({"width": 100_000, "height": 1, "stride": 300_000}, b"") is None
    assert cover_image({"width": "x", "height": 2, "stride": 12}, rgb) is None


def test_play_pause_seek(qtbot: QtBot, player: MediaPlayer, corpus: Path) -> None:
    load(qtbot, player, corpus / "media" / "example.opus", "audio")  # 12.7 s
    positions: list[int] = []
    player.position_changed.connect(positions.append)
    player._play_button.click()
    qtbot.waitUntil(lambda: player.playing, timeout=WAIT)
    qtbot.waitUntil(lambda: player.position_ms > 300, timeout=WAIT)
    assert positions and max(positions) > 0
    assert player._play_button.text() == "Pause"

    player.pause()
    assert not player.playing
    assert player._play_button.text() == "Play"
    paused_at = player.position_ms
    qtbot.wait(400)
    assert player.position_ms == paused_at  # paused means still

    player.seek(8_000)
    qtbot.waitUntil(lambda: abs(player.position_ms - 8_000) < 500, timeout=WAIT)
    assert player._slider.value() == player.position_ms or abs(player._slider.value() - 8_000) < 500
    assert player._time.text().startswith("0:08 / 0:12")
    player.seek(10**9)  # clamped to the end, not past it
    qtbot.waitUntil(lambda: player.position_ms >= player.duration_ms - 500, timeout=WAIT)


def test_playing_to_the_end_and_again(qtbot: QtBot, player: MediaPlayer, corpus: Path) -> None:
    load(qtbot, player, corpus / "media" / "fixture.flac", "audio")  # 1.2 s
    player.play()
    qtbot.waitUntil(lambda: player.playing, timeout=WAIT)
    qtbot.waitUntil(lambda: not player.playing, timeout=WAIT)  # it ends by itself
    assert player._play_button.text() == "Play"
    assert player._slider.value() == player._slider.maximum()
    player.toggle()  # from the start again
    qtbot.waitUntil(lambda: player.playing, timeout=WAIT)
    qtbot.waitUntil(lambda: 0 < player.position_ms < player.duration_ms, timeout=WAIT)


def test_keyboard_controls(qtbot: QtBot, player: MediaPlayer, corpus: Path) -> None:
    load(qtbot, player, corpus / "media" / "example.opus", "audio")
    focus(qtbot, player)

    qtbot.keyClick(player._slider, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: abs(player.position_ms - 5_000) < 500, timeout=WAIT)
    qtbot.keyClick(player._slider, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: player.position_ms < 500, timeout=WAIT)

    qtbot.keyClick(player._slider, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: player.playing, timeout=WAIT)
    qtbot.keyClick(player._slider, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not player.playing, timeout=WAIT)

    assert not player.muted
    qtbot.keyClick(player._slider, Qt.Key.Key_M)
    assert player.muted
    assert player._mute_button.isChecked()
    qtbot.keyClick(player._slider, Qt.Key.Key_M)
    assert not player.muted

    qtbot.keyClick(player._slider, Qt.Key.Key_F)  # audio has no full screen
    assert not player.fullscreen
    assert not player._fullscreen_button.isVisible()


def test_volume_and_mute(qtbot: QtBot, player: MediaPlayer, corpus: Path) -> None:
    load(qtbot, player, corpus / "media" / "silence-44-s.flac", "audio")
    player.set_volume(40)
    assert player.volume == 40
    assert player._volume_slider.value() == 40
    assert 0 < player._audio.volume() < 0.4  # a perceptual slider: 40 % sounds, quieter
    player._volume_slider.setValue(0)
    assert player.volume == 0
    assert player._audio.volume() == 0
    player.set_volume(250)
    assert player.volume == 100
    assert player._audio.volume() == pytest.approx(1.0)

    player._mute_button.click()
    assert player.muted
    assert player._mute_button.text() == "Unmute"
    player.toggle_mute()
    assert not player.muted


def test_click_on_the_slider_seeks_there(qtbot: QtBot, player: MediaPlayer, corpus: Path) -> None:
    load(qtbot, player, corpus / "media" / "example.opus", "audio")
    slider = player._slider
    target = QPoint(int(slider.width() * 0.75), slider.height() // 2)
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=target)
    expected = player.duration_ms * 0.75
    qtbot.waitUntil(lambda: abs(player.position_ms - expected) < 1_500, timeout=WAIT)


def test_video_shows_its_first_frame_and_plays(
    qtbot: QtBot, player: MediaPlayer, corpus: Path
) -> None:
    path = corpus / "media" / "fixture-null.webm"  # 4.2 s, 1920×1080, no sound
    load(qtbot, player, path, "video")
    assert player.has_video
    assert abs(player.duration_ms - pyav_duration_ms(path)) < 100
    # Before playing: the first frame, decoded by the probe, not by the player.
    assert player._screen.currentWidget() is player._frame
    assert player._frame.has_cover
    assert not player.playing

    player.play()
    qtbot.waitUntil(lambda: player.position_ms > 300, timeout=WAIT)
    assert player._screen.currentWidget() is player._video
    sink = player._video.videoSink()
    qtbot.waitUntil(lambda: sink.videoFrame().isValid(), timeout=WAIT)
    assert sink.videoFrame().size().width() == 1920
    player.pause()
    assert not player.playing
    assert player._screen.currentWidget() is player._video  # a paused video keeps its frame


def test_fullscreen_moves_the_stage_and_comes_back(
    qtbot: QtBot, player: MediaPlayer, corpus: Path
) -> None:
    load(qtbot, player, corpus / "media" / "sample.oggtheora", "video")
    focus(qtbot, player)
    qtbot.keyClick(player._slider, Qt.Key.Key_F)
    assert player.fullscreen
    window = player._stage.window()
    assert window is not player.window()
    qtbot.waitUntil(lambda: window.isFullScreen(), timeout=WAIT)
    assert player._fullscreen_button.toolTip().startswith("Leave full screen")

    # Esc leaves; the controls come back into the pane.
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=WAIT)
    qtbot.keyClick(player._slider, Qt.Key.Key_Escape)
    assert not player.fullscreen
    assert player._stage.parent() is player
    assert player._stage.isVisible()
    assert player.window().isAncestorOf(player._video)
    # The video still plays in the pane after the round trip.
    player.play()
    qtbot.waitUntil(lambda: player.position_ms > 300, timeout=WAIT)
    player.pause()

    # A double-click on the picture enters it; closing the window leaves it.
    qtbot.mouseDClick(player._video, Qt.MouseButton.LeftButton)
    assert player.fullscreen
    player._stage.window().close()
    assert not player.fullscreen
    assert player._stage.parent() is player

    # Selection moves on while in full screen: the window goes too.
    player.toggle_fullscreen()
    window = player._stage.window()
    player.stop()
    assert not player.fullscreen
    qtbot.waitUntil(lambda: not window.isVisible() if _alive(window) else True, timeout=WAIT)


def _alive(widget: object) -> bool:
    import shiboken6

    return bool(shiboken6.isValid(widget))


def test_stop_releases_the_file_at_once(qtbot: QtBot, player: MediaPlayer, corpus: Path) -> None:
    load(qtbot, player, corpus / "media" / "example.opus", "audio")
    player.play()
    qtbot.waitUntil(lambda: player.position_ms > 200, timeout=WAIT)
    player.stop()
    assert not player.playing
    assert not player.loaded
    # The file is let go on the next turn of the event loop (see MediaPlayer._queue).
    qtbot.waitUntil(lambda: player._player.source().isEmpty(), timeout=1000)
    assert player.position_ms == 0
    assert player.duration_ms == 0
    assert player._time.text() == "0:00 / 0:00"
    assert not player._play_button.isEnabled()
    player.play()  # nothing loaded: nothing happens
    assert not player.playing


def test_a_stale_probe_answer_is_dropped(qtbot: QtBot, player: MediaPlayer, corpus: Path) -> None:
    failures: list[str] = []
    player.failed.connect(failures.append)
    player.show_source(source(corpus / "broken" / "emptyfile.mp3", "audio"))
    with qtbot.waitSignal(player.ready, timeout=WAIT):
        player.show_source(source(corpus / "media" / "silence-44-s.mp3", "audio"))
    qtbot.wait(200)
    assert failures == []
    assert player._title.text() == "Silence"


def test_stop_before_the_probe_answers_loads_nothing(
    qtbot: QtBot, player: MediaPlayer, corpus: Path
) -> None:
    with qtbot.assertNotEmitted(player.ready, wait=1_500):
        player.show_source(source(corpus / "media" / "silence-44-s.mp3", "audio"))
        player.stop()
    assert player._player.source().isEmpty()


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("emptyfile.mp3", "audio"),  # zero bytes
        ("fixture-corrupt.mkv", "video"),  # FFmpeg cannot open it
        ("52-overwritten-metadata.flac", "audio"),  # opens, claims 236 s, decodes nothing
        ("truncated-64bit.mp4", "video"),
    ],
)
def test_broken_files_fail_cleanly(
    qtbot: QtBot, player: MediaPlayer, corpus: Path, name: str, kind: str
) -> None:
    ready: list[bool] = []
    player.ready.connect(lambda: ready.append(True))
    with qtbot.waitSignal(player.failed, timeout=WAIT) as blocker:
        player.show_source(source(corpus / "broken" / name, kind))
    reason = blocker.args[0]
    assert reason.startswith("This video" if kind == "video" else "This audio file")
    assert "cannot be played" in reason
    assert "Traceback" not in reason and str(corpus) not in reason
    assert ready == []
    # The player never saw the file: only probed files reach FFmpeg in this process.
    assert player._player.source().isEmpty()
    assert not player.loaded
    assert not player._play_button.isEnabled()


def test_a_crashing_probe_fails_cleanly(qtbot: QtBot, tmp_path: Path, corpus: Path) -> None:
    # sys.exit as the handler: the worker process dies on the request (SystemExit
    # escapes the handler guard), like a decoder crashing in native code.
    crashing = WorkerPool(sys.exit, name="viewer", workers=1)
    tasks = TaskManager()
    try:
        viewer = MediaPlayer(ViewerServices(tasks=tasks, workers=crashing, cache_dir=tmp_path))
        qtbot.addWidget(viewer)
        with qtbot.waitSignal(viewer.failed, timeout=WAIT) as blocker:
            viewer.show_source(source(corpus / "media" / "silence-44-s.mp3", "audio"))
        assert blocker.args[0].startswith("This audio file cannot be played: the media reader")
        assert viewer._player.source().isEmpty()
        viewer.stop()
    finally:
        tasks.shutdown()
        crashing.close()
    assert QApplication.instance() is not None  # still here


@pytest.mark.qt_log_ignore(r"Could not open media\. FFmpeg error description")
def test_a_file_the_player_refuses_fails_cleanly(
    qtbot: QtBot, player: MediaPlayer, corpus: Path
) -> None:
    # A file the probe passed but Qt's backend then refuses (a disagreement
    # between PyAV and Qt's FFmpeg): simulated by answering the probe here.
    failures: list[str] = []
    player.failed.connect(failures.append)
    player.show_source(source(corpus / "broken" / "fixture-corrupt.mkv", "video"))
    assert player._task is not None
    player._task.cancel()
    with qtbot.waitSignal(player.failed, timeout=WAIT) as blocker:
        player._on_probed(player._generation, {"ok": True, "has_video": True}, b"")
    assert blocker.args[0].startswith("This video's format cannot be played here (")
    assert not player.loaded
    qtbot.wait(300)  # late news from the backend changes nothing
    assert len(failures) == 1
    assert player._player.source().isEmpty()
    # The player is still usable for the next file.
    load(qtbot, player, corpus / "media" / "silence-44-s.mp3", "audio")


def test_without_a_playback_backend_it_says_so(
    qtbot: QtBot, player: MediaPlayer, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(player._player, "isAvailable", lambda: False)
    with qtbot.waitSignal(player.failed, timeout=WAIT) as failed:
        player.show_source(source(corpus / "media" / "silence-44-s.mp3", "audio"))
    assert "found no playback backend" in failed.args[0]
