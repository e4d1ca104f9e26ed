"""Regenerates the JPEG 2000 chip portraits from testdata/faces/fr_obama2.jpg (public domain; see
testdata/faces/README.md). Needs Pillow built with OpenJPEG (Debian's python3-pil is)."""
from pathlib import Path

from PIL import Image

here = Path(__file__).parent
photo = Image.open(here.parent / "faces" / "fr_obama2.jpg").convert("RGB")
w, h = photo.size
# An ICAO portrait is 3:4: crop the centre, then scale to a typical chip size.
cw = min(w, int(h * 0.75))
ch = int(cw / 0.75)
left, top = (w - cw) // 2, max(0, (h - ch) // 2)
portrait = photo.crop((left, top, left + cw, top + ch)).resize((300, 400))
# Rate 40:1 gives about 9 KB, the size range of real DG2 portraits.
portrait.save(here / "portrait.jp2", format="JPEG2000", quality_mode="rates", quality_layers=[40])
portrait.save(here / "portrait.j2k", format="JPEG2000", quality_mode="rates", quality_layers=[40], no_jp2=True)
portrait.convert("L").save(here / "portrait-gray.jp2", format="JPEG2000", quality_mode="rates", quality_layers=[40])
