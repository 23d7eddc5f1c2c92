// Test files made on the spot: a camera-like JPEG that carries GPS EXIF, a
// short WebM video recorded from a canvas, and a JPEG marker reader to
// check what the server stored.

/** A JPEG of `width`×`height` drawn in `page`, as bytes. */
export async function drawnJpeg(page, width, height) {
  const base64 = await page.evaluate(
    async ([w, h]) => {
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const context = canvas.getContext('2d');
      const gradient = context.createLinearGradient(0, 0, w, h);
      gradient.addColorStop(0, '#ff9a3c');
      gradient.addColorStop(1, '#3c6cff');
      context.fillStyle = gradient;
      context.fillRect(0, 0, w, h);
      context.fillStyle = '#fff';
      context.beginPath();
      context.arc(w * 0.7, h * 0.35, h * 0.15, 0, Math.PI * 2);
      context.fill();
      return canvas.toDataURL('image/jpeg', 0.9).split(',')[1];
    },
    [width, height],
  );
  return Buffer.from(base64, 'base64');
}

/**
 * `jpeg` with an EXIF block right after its start marker, as a phone camera
 * writes it: camera make and model, and a GPS position.
 */
export function withGpsExif(jpeg) {
  const tiff = Buffer.alloc(172);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4);
  const entry = (at, tag, type, count, value) => {
    tiff.writeUInt16BE(tag, at);
    tiff.writeUInt16BE(type, at + 2);
    tiff.writeUInt32BE(count, at + 4);
    if (typeof value === 'string') tiff.write(value, at + 8, 'latin1');
    else tiff.writeUInt32BE(value, at + 8);
  };
  // IFD0 at 8: Make, Model, pointer to the GPS IFD.
  tiff.writeUInt16BE(3, 8);
  entry(10, 0x010f, 2, 10, 104);
  entry(22, 0x0110, 2, 9, 114);
  entry(34, 0x8825, 4, 1, 50);
  tiff.writeUInt32BE(0, 46);
  // GPS IFD at 50: 52°31'12" N, 13°24'36" E.
  tiff.writeUInt16BE(4, 50);
  entry(52, 0x0001, 2, 2, 'N\0');
  entry(64, 0x0002, 5, 3, 124);
  entry(76, 0x0003, 2, 2, 'E\0');
  entry(88, 0x0004, 5, 3, 148);
  tiff.writeUInt32BE(0, 100);
  tiff.write('NatterCam\0', 104, 'latin1');
  tiff.write('Spy 9000\0', 114, 'latin1');
  [52, 1, 31, 1, 12, 1].forEach((v, i) => tiff.writeUInt32BE(v, 124 + i * 4));
  [13, 1, 24, 1, 36, 1].forEach((v, i) => tiff.writeUInt32BE(v, 148 + i * 4));

  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const header = Buffer.alloc(4);
  header.writeUInt16BE(0xffe1, 0);
  header.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, body, jpeg.subarray(2)]);
}

/** The markers of a JPEG's header segments, up to the image data. */
export function jpegMarkers(bytes) {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error('not a JPEG');
  const markers = [];
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw new Error(`bad JPEG segment at ${at}`);
    const marker = bytes[at + 1];
    markers.push(marker);
    if (marker === 0xda) break;
    at += 2 + bytes.readUInt16BE(at + 2);
  }
  return markers;
}

/** A WebM video of about `ms` milliseconds, recorded in `page` from a canvas. */
export async function recordedWebm(page, ms) {
  return recordedVideo(page, ms, 'video/webm;codecs=vp8');
}

/** An MP4 video of about `ms` milliseconds, recorded in `page` from a canvas. */
export async function recordedMp4(page, ms) {
  return recordedVideo(page, ms, 'video/mp4');
}

async function recordedVideo(page, ms, mimeType) {
  const base64 = await page.evaluate(async ([duration, mimeType]) => {
    const canvas = document.createElement('canvas');
    canvas.width = 320;
    canvas.height = 240;
    const context = canvas.getContext('2d');
    const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType });
    const chunks = [];
    recorder.ondataavailable = (event) => chunks.push(event.data);
    const stopped = new Promise((resolve) => (recorder.onstop = resolve));
    recorder.start(100);
    const started = performance.now();
    await new Promise((resolve) => {
      const frame = () => {
        const t = performance.now() - started;
        context.fillStyle = '#1b7f5c';
        context.fillRect(0, 0, 320, 240);
        context.fillStyle = '#ffd166';
        context.fillRect((t / 10) % 280, 90, 40, 60);
        if (t < duration) requestAnimationFrame(frame);
        else resolve();
      };
      frame();
    });
    recorder.stop();
    await stopped;
    const blob = new Blob(chunks, { type: mimeType });
    const url = await new Promise((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.readAsDataURL(blob);
    });
    return url.split(',')[1];
  }, [ms, mimeType]);
  return Buffer.from(base64, 'base64');
}

/** A box: its size, its type and its contents. */
function mp4Box(type, ...contents) {
  const body = Buffer.concat(contents);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length + 8, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

/**
 * `mp4` as a phone would have written it: user data with `©xyz` (the GPS
 * position) and the maker, Apple's location and model keys, and a capture
 * time in `mvhd`, all added to its `moov`.
 */
export function asFromAPhone(mp4) {
  const location = '+37.3349-122.0090+010.000/';
  const userData = mp4Box(
    'udta',
    mp4Box('\u00a9xyz', Buffer.from([0, location.length, 0x15, 0xc7]), Buffer.from(location, 'latin1')),
    mp4Box('\u00a9mak', Buffer.from('\0\u0005\0\0Apple', 'latin1')),
  );
  const keys = mp4Box(
    'meta',
    mp4Box('hdlr', Buffer.alloc(8), Buffer.from('mdta', 'latin1'), Buffer.alloc(13)),
    mp4Box('keys', Buffer.from('com.apple.quicktime.location.ISO6709com.apple.quicktime.model', 'latin1')),
    mp4Box('ilst', Buffer.from(`${location}iPhone 15 Pro`, 'latin1')),
  );
  const out = [];
  let at = 0;
  while (at < mp4.length) {
    const size = mp4.readUInt32BE(at);
    const type = mp4.toString('latin1', at + 4, at + 8);
    let box = mp4.subarray(at, at + size);
    if (type === 'moov') {
      const moov = Buffer.concat([box, userData, keys]);
      moov.writeUInt32BE(moov.length, 0);
      // A capture time in mvhd (version 0: right after version and flags).
      const mvhd = moov.indexOf('mvhd', 0, 'latin1');
      moov.writeUInt32BE(0xe1234567, mvhd + 8);
      box = moov;
    }
    out.push(box);
    at += size;
  }
  return Buffer.concat(out);
}
