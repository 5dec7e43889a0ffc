"""Reference renderings for text_scripts.rs: a line drawn by an independent
shaper, Pillow's raqm layout (HarfBuzz shaping, FriBiDi reordering), or by
Pillow's basic layout (no shaping: one glyph per character from the cmap,
left to right) to show what an unshaped rendering looks like.

Usage: text_ref.py OUT.png FONT_FILE SIZE raqm|basic TEXT_HEX

FONT_FILE is a file name found under /usr/share/fonts (or a path); SIZE the
em size in pixels, as pixgate's `size_`; TEXT_HEX the text's UTF-8 bytes in
hex (argv stays ASCII). Writes black text on white, 8-bit grey.
"""

import os
import sys

from PIL import Image, ImageDraw, ImageFont, features


def find(name):
    if os.path.isabs(name):
        return name
    for root, _dirs, files in os.walk("/usr/share/fonts"):
        if name in files:
            return os.path.join(root, name)
    sys.exit(f"font {name} not found under /usr/share/fonts (scripts/install-deps)")


def main():
    out, font, size, layout, text_hex = sys.argv[1:6]
    text = bytes.fromhex(text_hex).decode("utf-8")
    if layout == "raqm":
        if not features.check("raqm"):
            sys.exit("Pillow has no raqm layout: libfribidi0 is missing (scripts/install-deps)")
        engine = ImageFont.Layout.RAQM
    else:
        engine = ImageFont.Layout.BASIC
    face = ImageFont.truetype(find(font), int(size), layout_engine=engine)
    x0, y0, x1, y1 = face.getbbox(text)
    pad = int(size) // 2
    img = Image.new("L", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), 255)
    ImageDraw.Draw(img).text((pad - x0, pad - y0), text, font=face, fill=0)
    img.save(out)


if __name__ == "__main__":
    main()
