// A screenshot of a whole X display as PNG: `xwd` dumps the root window, this turns it into a PNG.
// WebKitWebDriver's own screenshot call hangs under Xvfb (no compositor), and this also shows exactly
// what the display shows, window edges included.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

function crc32(buf) {
  let c, crc = 0xffffffff;
  for (let n = 0; n < buf.length; n++) {
    c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

export function screenshotDisplay(display, path) {
  const xwd = execFileSync('xwd', ['-root', '-silent', '-display', display], { maxBuffer: 64 << 20 });
  const h = (i) => xwd.readUInt32BE(i * 4);
  const [headerSize, width, height, byteOrder, bpp, bytesPerLine, ncolors] = [h(0), h(4), h(5), h(7), h(11), h(12), h(19)];
  if (bpp !== 32) throw new Error(`xwd: ${bpp} bits per pixel is not supported`);
  const data = xwd.subarray(headerSize + ncolors * 12);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    for (let x = 0; x < width; x++) {
      const p = y * bytesPerLine + x * 4;
      const [r, g, b] = byteOrder === 0 ? [data[p + 2], data[p + 1], data[p]] : [data[p + 1], data[p + 2], data[p + 3]];
      const o = y * (width * 3 + 1) + 1 + x * 3;
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const png = Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
  writeFileSync(path, png);
}
