"""Files for the smoke run of the built application: ``python -m tests.smoke_files DIR``.

Prints three paths, one per line: a JPEG, a PDF and a short video. They are
the corpus's own (``../shared/corpus``) when it is there, else made here with
Pillow, PyMuPDF and PyAV, so the smoke run works in any checkout.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
FROM_CORPUS = ("images/hopper.jpg", "pdf/2201.00069.pdf", "media/fixture.webm")


def made(directory: Path) -> list[Path]:
    """A photo, a two-page PDF and a one-second MPEG-4 video, written to ``directory``."""
    import av
    import pymupdf
    from PIL import Image, ImageDraw

    directory.mkdir(parents=True, exist_ok=True)
    photo = directory / "photo.jpg"
    image = Image.new("RGB", (640, 480), (40, 90, 160))
    ImageDraw.Draw(image).ellipse((200, 120, 440, 360), fill=(240, 200, 60))
    image.save(photo, quality=90)

    pdf = directory / "report.pdf"
    document = pymupdf.open()
    for number in (1, 2):
        page = document.new_page()
        page.insert_text((72, 90), f"Smoke test, page {number}", fontsize=20)
    document.save(pdf)
    document.close()

    video = directory / "clip.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.time_base = Fraction(1, 25)
        for i in range(25):
            frame = av.VideoFrame.from_image(Image.new("RGB", (320, 240), (i * 10, 120, 200)))
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return [photo, pdf, video]


def smoke_files(directory: Path) -> list[Path]:
    corpus = [CORPUS / name for name in FROM_CORPUS]
    return corpus if all(p.is_file() for p in corpus) else made(directory)


if __name__ == "__main__":
    for path in smoke_files(Path(sys.argv[1])):
        print(path)
