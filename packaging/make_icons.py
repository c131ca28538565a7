"""Render resources/icons/cncwear.svg to cncwear-<N>.png and the Windows cncwear.ico.

    .venv/bin/python packaging/make_icons.py

Needs no display (uses Qt's offscreen platform). Re-run after editing the SVG and commit the outputs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SVG = ICONS / "cncwear.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def render_pngs() -> dict[int, Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (QPainter wants one)
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"cannot render {SVG}")
    pngs = {}
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        path = ICONS / f"cncwear-{size}.png"
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"cannot write {path}")
        pngs[size] = path
    return pngs


def write_ico(pngs: dict[int, Path], target: Path) -> None:
    try:
        from PIL import Image
    except ImportError:
        # Qt's ico writer stores a single image; Windows scales it down for the small sizes.
        from PySide6.QtGui import QImage

        if not QImage(str(pngs[max(pngs)])).save(str(target), "ICO"):
            raise SystemExit(f"cannot write {target}")
        return
    images = [Image.open(pngs[size]) for size in sorted(pngs)]
    # append_images hands Pillow our own renders for each size instead of it downscaling the largest.
    images[-1].save(target, format="ICO", sizes=[im.size for im in images], append_images=images[:-1])


def main() -> int:
    pngs = render_pngs()
    write_ico(pngs, ICONS / "cncwear.ico")
    for path in [*pngs.values(), ICONS / "cncwear.ico"]:
        print(path.relative_to(ICONS.parent.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
