// A minimal HTTP front for sharp (libvips), the way a team would write one:
// GET /<key>?w=W&h=H fetches http://<UPSTREAM>/<key> from the S3 server, fits
// it inside W×H (never enlarging, EXIF orientation applied), and re-encodes it
// in its own format (JPEG and WebP at quality 80), or in `f` (`f=avif`: AVIF
// at quality 80, sharp's default effort 4). No cache of any kind.
'use strict';
const http = require('http');
const sharp = require('sharp');

const upstream = process.env.UPSTREAM; // e.g. http://127.0.0.1:9014/bench
const port = Number(process.env.PORT);

http
  .createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      const source = await fetch(upstream + url.pathname);
      if (!source.ok) {
        res.writeHead(502);
        res.end();
        return;
      }
      const input = Buffer.from(await source.arrayBuffer());
      const w = Number(url.searchParams.get('w')) || null;
      const h = Number(url.searchParams.get('h')) || null;
      const { format } = await sharp(input).metadata();
      const out = await sharp(input)
        .rotate()
        .resize(w, h, { fit: 'inside', withoutEnlargement: true })
        .toFormat(url.searchParams.get('f') || format, { quality: 80 })
        .toBuffer({ resolveWithObject: true });
      res.writeHead(200, {
        'content-type': `image/${out.info.format}`,
        'content-length': out.data.length,
      });
      res.end(out.data);
    } catch (e) {
      res.writeHead(500);
      res.end(String(e));
    }
  })
  .listen(port, '127.0.0.1');
