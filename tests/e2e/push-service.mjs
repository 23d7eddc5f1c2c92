// A push service stand-in on loopback, for what cannot run here: the
// browser's own push service (FCM, Mozilla's autopush) on the internet. It
// takes pushes as RFC 8030 says, holds each device's keys as a browser
// does, and decrypts the payload (RFC 8291, aes128gcm) so that the test can
// hand it to the service worker, as the browser would after its service
// delivered it.
import { createDecipheriv, createECDH, hkdfSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

const hkdf = (salt, ikm, info, length) => Buffer.from(hkdfSync('sha256', ikm, salt, info, length));

/** Decrypts one aes128gcm push body for `keys` (a single record). */
function decrypt(keys, body) {
  const salt = body.subarray(0, 16);
  const idLength = body[20];
  const senderKey = body.subarray(21, 21 + idLength);
  const record = body.subarray(21 + idLength);
  const shared = keys.ecdh.computeSecret(senderKey);
  const info = Buffer.concat([Buffer.from('WebPush: info\0'), keys.ecdh.getPublicKey(), senderKey]);
  const ikm = hkdf(keys.auth, shared, info, 32);
  const key = hkdf(salt, ikm, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
  const nonce = hkdf(salt, ikm, Buffer.from('Content-Encoding: nonce\0'), 12);
  const decipher = createDecipheriv('aes-128-gcm', key, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end > 0 && padded[end] === 0) end -= 1;
  if (padded[end] !== 2) throw new Error('a push must be one last record');
  return padded.subarray(0, end).toString('utf8');
}

/** Starts the stand-in on a free loopback port. */
export async function startPushService() {
  const devices = new Map();
  const pushes = [];
  let arrived = () => {};
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const name = decodeURIComponent(request.url.split('/').pop());
      const keys = devices.get(name);
      if (request.method !== 'POST' || !keys) {
        response.writeHead(404).end();
        return;
      }
      pushes.push({
        device: name,
        authorization: request.headers.authorization || '',
        encoding: request.headers['content-encoding'],
        payload: JSON.parse(decrypt(keys, Buffer.concat(chunks))),
      });
      response.writeHead(201).end();
      arrived();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    /** A new device: its subscription, as `PushSubscription.toJSON()` gives it. */
    device(name) {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      devices.set(name, { ecdh, auth });
      return {
        endpoint: `${origin}/push/${encodeURIComponent(name)}`,
        expirationTime: null,
        keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
      };
    },
    /** The next push taken (waits for it). */
    async next(timeout = 10_000) {
      const deadline = Date.now() + timeout;
      while (pushes.length === 0) {
        if (Date.now() > deadline) throw new Error('no push arrived');
        await new Promise((resolve) => {
          arrived = resolve;
          setTimeout(resolve, 100);
        });
      }
      return pushes.shift();
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
