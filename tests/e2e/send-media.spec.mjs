// Sending media through the real UI: a photo (downsized, EXIF and GPS gone
// from what the server stores), a short video with a poster, and a voice
// message recorded with Chromium's fake microphone, which the other side
// plays. Then the outage variant, a phone's video that loses where and
// when it was filmed, and a video too large to send.
import { test, expect, signUp, openChatWith, uniqueName, waitForOfflineShell, startServer, befriend } from './fixtures.mjs';
import { drawnJpeg, withGpsExif, jpegMarkers, recordedWebm, recordedMp4, asFromAPhone } from './media-files.mjs';

const shot = (name) => new URL(`../../target/screenshots/${name}.png`, import.meta.url).pathname;

/** The newest messages of the only conversation, as `page`'s user sees them on the server. */
async function history(page) {
  return page.evaluate(async () => {
    const [conversation] = await (await fetch('/api/conversations')).json();
    return (await fetch(`/api/conversations/${conversation.id}/messages`)).json();
  });
}

/** The stored file `id`, fetched with `page`'s session. */
async function storedFile(page, server, id) {
  const response = await page.request.get(`${server.url}/api/media/${id}`);
  expect(response.status()).toBe(200);
  return { type: response.headers()['content-type'], bytes: await response.body() };
}

test('a photo, a video and a voice message go from A to B', async ({ browser, server }) => {
  test.setTimeout(120_000);
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const bob = await signUp(browser, server, bobName);
  const ann = await signUp(browser, server, annName);
  await befriend(bob, ann);
  await openChatWith(ann.page, bobName);
  const picker = ann.page.locator('input.file-picker');
  const sent = ann.page.locator('.bubble-row.mine[data-seq]');

  // 1. A photo straight from a "camera": 3000×2000 with GPS EXIF.
  const original = withGpsExif(await drawnJpeg(ann.page, 3000, 2000));
  expect(original.includes(Buffer.from('Exif\0\0', 'latin1'))).toBe(true);
  expect(jpegMarkers(original)).toContain(0xe1);
  await picker.setInputFiles({ name: 'beach.jpg', mimeType: 'image/jpeg', buffer: original });
  await expect(sent).toHaveCount(1);
  await expect(sent.getByRole('img', { name: 'Photo' })).toHaveAttribute('src', /^data:image\/jpeg;base64,/);

  const [photoMessage] = await history(ann.page);
  expect(photoMessage.attachment).toMatchObject({ kind: 'image', content_type: 'image/jpeg', width: 2048, height: 1365 });
  expect(photoMessage.attachment.thumbnail.length).toBeLessThanOrEqual(40 * 1024);
  const stored = await storedFile(ann.page, server, photoMessage.attachment.id);
  expect(stored.type).toBe('image/jpeg');
  // No EXIF at all: no APP1 segment, no trace of the camera or position.
  expect(jpegMarkers(stored.bytes)).not.toContain(0xe1);
  for (const trace of ['Exif', 'NatterCam', 'Spy 9000']) {
    expect(stored.bytes.includes(Buffer.from(trace, 'latin1'))).toBe(false);
  }
  const size = await ann.page.evaluate(async (id) => {
    const bitmap = await createImageBitmap(await (await fetch(`/api/media/${id}`)).blob());
    return [bitmap.width, bitmap.height];
  }, photoMessage.attachment.id);
  expect(size).toEqual([2048, 1365]);

  // 2. A short video: uploaded with a progress bar, sent with a poster.
  const clip = await recordedWebm(ann.page, 1500);
  await picker.setInputFiles({ name: 'clip.webm', mimeType: 'video/webm', buffer: clip });
  await expect(sent).toHaveCount(2, { timeout: 20_000 });

  // 3. A voice message from the fake microphone: one cancelled, one sent.
  await ann.page.getByRole('button', { name: 'Record a voice message' }).click();
  const recording = ann.page.getByRole('group', { name: 'Recording a voice message' });
  await expect(recording.locator('.recording-time')).toHaveText('0:01', { timeout: 10_000 });
  await recording.getByRole('button', { name: 'Cancel' }).click();
  await expect(recording).toHaveCount(0);
  await expect(ann.page.locator('.bubble-row.mine')).toHaveCount(2);
  await ann.page.getByRole('button', { name: 'Record a voice message' }).click();
  await expect(recording.getByRole('meter', { name: 'Microphone level' })).toBeVisible();
  await expect(recording.locator('.recording-time')).toHaveText('0:02', { timeout: 10_000 });
  await ann.page.screenshot({ path: shot('voice-recording') });
  await recording.getByRole('button', { name: 'Send voice message' }).click();
  await expect(sent).toHaveCount(3, { timeout: 20_000 });

  const messages = await history(ann.page);
  expect(messages.map((m) => m.attachment.kind)).toEqual(['image', 'video', 'voice']);
  const [, video, voice] = messages.map((m) => m.attachment);
  expect(video.content_type).toBe('video/webm');
  expect(video.thumbnail).toMatch(/^data:image\/jpeg;base64,/);
  expect([video.width, video.height]).toEqual([320, 240]);
  expect(voice.content_type).toMatch(/^audio\/(webm|ogg|mp4)/);
  expect(voice.duration_ms).toBeGreaterThanOrEqual(2000);
  expect(voice.waveform.length).toBeGreaterThan(10);
  expect(Math.max(...voice.waveform)).toBe(255);

  // B sees the photo, the video's poster, and plays the voice message.
  await bob.page.getByRole('button', { name: `${annName}, 3 unread` }).click();
  await expect(bob.page.getByRole('button', { name: 'Open photo' }).getByRole('img')).toHaveAttribute(
    'src',
    /^data:image\/jpeg;base64,/,
  );
  const player = bob.page.getByLabel('Video', { exact: true });
  await expect(player).toHaveAttribute('poster', /^data:image\/jpeg;base64,/);
  await expect(player).toHaveAttribute('src', `/api/media/${video.id}`);

  const note = bob.page.getByRole('group', { name: 'Voice message' });
  const seconds = Math.ceil(voice.duration_ms / 1000);
  await expect(note.locator('.voice-time')).toHaveText(`0:0${seconds}`);
  await expect(note.locator('.wave-bar')).toHaveCount(40);
  await expect(note.getByRole('button', { name: 'Playback speed' })).toHaveText('1×');
  await note.getByRole('button', { name: 'Playback speed' }).click();
  await expect(note.getByRole('button', { name: 'Playback speed' })).toHaveText('1.5×');
  await note.getByRole('button', { name: 'Play voice message' }).click();
  await expect(note.getByRole('button', { name: 'Pause' })).toBeVisible();
  const position = note.getByRole('slider', { name: 'Position' });
  await expect.poll(() => position.getAttribute('aria-valuenow'), { timeout: 10_000 }).not.toBe('0');
  await expect(note.locator('.wave-bar.played').first()).toBeVisible();
  await bob.page.screenshot({ path: shot('media-received-light') });
  // It plays to the end and stops.
  await expect(note.getByRole('button', { name: 'Play voice message' })).toBeVisible({ timeout: 10_000 });
  // Seeking: a click on the waveform's middle jumps there.
  await position.click({ position: { x: (await position.boundingBox()).width / 2, y: 10 } });
  await expect.poll(async () => Number(await position.getAttribute('aria-valuenow'))).toBe(Math.floor(voice.duration_ms / 2000));

  await bob.page.emulateMedia({ colorScheme: 'dark' });
  await bob.page.screenshot({ path: shot('media-received-dark') });
  await ann.page.screenshot({ path: shot('media-sent-light') });
  await ann.page.emulateMedia({ colorScheme: 'dark' });
  await ann.page.screenshot({ path: shot('media-sent-dark') });

  // During an outage B's cached chat still shows the thumbnails and plays
  // the voice message, from the copy kept on the device.
  await waitForOfflineShell(bob.page);
  await server.stop();
  await bob.page.reload();
  await expect(bob.page.locator('.me-name')).toHaveText(bobName);
  await expect(bob.page.locator('.banner').filter({ hasText: 'Offline since' })).toBeVisible();
  await expect(bob.page.getByRole('button', { name: 'Open photo' }).getByRole('img')).toHaveAttribute(
    'src',
    /^data:image\/jpeg;base64,/,
  );
  await expect(player).toHaveAttribute('poster', /^data:image\/jpeg;base64,/);
  const offlineNote = bob.page.getByRole('group', { name: 'Voice message' });
  await expect(offlineNote.locator('audio')).toHaveAttribute('src', /^blob:/);
  await offlineNote.getByRole('button', { name: 'Play voice message' }).click();
  await expect
    .poll(() => offlineNote.getByRole('slider', { name: 'Position' }).getAttribute('aria-valuenow'), { timeout: 10_000 })
    .not.toBe('0');
  await server.start();

  await ann.context.close();
  await bob.context.close();
});

test('a photo sent during an outage survives a reload and arrives once', async ({ browser, server }) => {
  test.setTimeout(120_000);
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const bob = await signUp(browser, server, bobName);
  const ann = await signUp(browser, server, annName);
  await befriend(bob, ann);
  await openChatWith(ann.page, bobName);
  await waitForOfflineShell(ann.page);
  const photo = await drawnJpeg(ann.page, 800, 600);

  await server.stop();
  await expect(ann.page.locator('.banner').filter({ hasText: 'Offline since' })).toBeVisible();
  await ann.page.locator('input.file-picker').setInputFiles({ name: 'offline.jpg', mimeType: 'image/jpeg', buffer: photo });
  const waiting = ann.page.locator('.bubble-row.mine:not([data-seq])');
  await expect(waiting.getByRole('img', { name: 'Photo' })).toBeVisible();
  await expect(waiting).toContainText('Waiting to upload');

  // Reloaded while the server is still down: the photo is still waiting.
  await ann.page.reload();
  await expect(ann.page.locator('.me-name')).toHaveText(annName);
  await expect(waiting.getByRole('img', { name: 'Photo' })).toBeVisible();
  await expect(waiting).toContainText('Waiting to upload');
  await ann.page.screenshot({ path: shot('media-outage-waiting') });

  await server.start();
  await ann.page
    .getByRole('button', { name: 'Retry now' })
    .click({ timeout: 3_000 })
    .catch(() => {});
  await expect(ann.page.locator('.bubble-row.mine[data-seq]')).toHaveCount(1, { timeout: 30_000 });
  await expect(waiting).toHaveCount(0);

  const row = bob.page.getByRole('button', { name: `${annName}, 1 unread` });
  await expect(row).toBeVisible({ timeout: 45_000 });
  await row.click();
  await expect(bob.page.getByRole('button', { name: 'Open photo' })).toHaveCount(1);
  const messages = await history(bob.page);
  expect(messages).toHaveLength(1);
  expect(messages[0].attachment).toMatchObject({ kind: 'image', width: 800, height: 600 });

  await ann.context.close();
  await bob.context.close();
});

/** Puts `buffer` as a file named `name` on a DataTransfer in `page`. */
async function transfer(page, name, type, buffer) {
  return page.evaluateHandle(
    ([fileName, fileType, bytes]) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], fileName, { type: fileType }));
      return data;
    },
    [name, type, [...buffer]],
  );
}

test('photos can be pasted and dropped; an upload shows progress and can be cancelled', async ({ browser, server }) => {
  const bobName = uniqueName('bob');
  const bob = await signUp(browser, server, bobName);
  const ann = await signUp(browser, server, uniqueName('ann'));
  await befriend(bob, ann);
  await openChatWith(ann.page, bobName);
  const sent = ann.page.locator('.bubble-row.mine[data-seq]');
  const photo = await drawnJpeg(ann.page, 640, 480);

  const pasted = await transfer(ann.page, 'pasted.jpg', 'image/jpeg', photo);
  await ann.page.getByRole('textbox', { name: 'Message' }).evaluate((box, data) => {
    box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, pasted);
  await expect(sent).toHaveCount(1);

  const dropped = await transfer(ann.page, 'dropped.jpg', 'image/jpeg', photo);
  const conversation = ann.page.getByRole('region', { name: `Conversation with ${bobName}` });
  await conversation.dispatchEvent('dragenter', { dataTransfer: dropped });
  await expect(ann.page.locator('.drop-hint')).toHaveText('Drop to send');
  await ann.page.screenshot({ path: shot('media-drop') });
  await conversation.dispatchEvent('drop', { dataTransfer: dropped });
  await expect(ann.page.locator('.drop-hint')).toHaveCount(0);
  await expect(sent).toHaveCount(2);
  expect((await history(ann.page)).map((m) => m.attachment.kind)).toEqual(['image', 'image']);

  // A slow uplink: the bar moves, and Cancel stops the upload for good.
  const network = await ann.context.newCDPSession(ann.page);
  await network.send('Network.enable');
  await network.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 50,
    downloadThroughput: 1_000_000,
    uploadThroughput: 8_000,
  });
  const clip = await recordedWebm(ann.page, 3000);
  expect(clip.length).toBeGreaterThan(16_000);
  await ann.page.locator('input.file-picker').setInputFiles({ name: 'slow.webm', mimeType: 'video/webm', buffer: clip });
  const uploading = ann.page.locator('.bubble-row.mine:not([data-seq])');
  await expect(uploading.locator('.upload-label')).toHaveText(/^Uploading [1-9]\d?%$/, { timeout: 15_000 });
  await ann.page.screenshot({ path: shot('media-uploading') });
  await uploading.getByRole('button', { name: 'Cancel upload' }).click();
  await expect(uploading).toHaveCount(0);
  await network.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
  // Nothing more was sent, and nothing comes back after a reload.
  await ann.page.reload();
  await expect(sent).toHaveCount(2);
  await expect(ann.page.locator('.bubble-row.mine:not([data-seq])')).toHaveCount(0);
  expect(await history(ann.page)).toHaveLength(2);

  await ann.context.close();
  await bob.context.close();
});

test('a video over the limit is refused before any upload', async ({ browser }) => {
  const server = await startServer({ args: ['--max-video-bytes', '5000'] });
  try {
    const bobName = uniqueName('bob');
    const bob = await signUp(browser, server, bobName);
    const ann = await signUp(browser, server, uniqueName('ann'));
    await befriend(bob, ann);
    await openChatWith(ann.page, bobName);
    // The limit comes from the server once connected.
    await expect
      .poll(() => ann.page.evaluate(async () => (await (await fetch('/api/limits')).json()).video_bytes))
      .toBe(5000);
    const uploads = [];
    ann.page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().includes('/api/media')) uploads.push(request.url());
    });
    const clip = await recordedWebm(ann.page, 1500);
    expect(clip.length).toBeGreaterThan(5000);
    await ann.page
      .locator('input.file-picker')
      .setInputFiles({ name: 'long.webm', mimeType: 'video/webm', buffer: clip });
    await expect(ann.page.getByRole('alert')).toHaveText(/^long\.webm: This video is \d+ KB and the limit is 5 KB\.$/);
    await expect(ann.page.locator('.bubble-row')).toHaveCount(0);
    expect(uploads).toEqual([]);
    await ann.context.close();
    await bob.context.close();
  } finally {
    await server.dispose();
  }
});

test("a phone's video loses where, when and on what it was filmed, and still plays", async ({ browser, server }) => {
  test.setTimeout(60_000);
  const bobName = uniqueName('bob');
  const bob = await signUp(browser, server, bobName);
  const ann = await signUp(browser, server, uniqueName('ann'));
  await befriend(bob, ann);
  await openChatWith(ann.page, bobName);
  const uploads = [];
  ann.page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().includes('/api/media')) uploads.push(request.url());
  });
  const traces = ['\u00a9xyz', '+37.3349', 'iPhone', 'com.apple.quicktime', 'Apple'];
  const has = (bytes, text) => bytes.includes(Buffer.from(text, 'latin1'));

  // A damaged video is refused, not sent as it is.
  const picker = ann.page.locator('input.file-picker');
  await picker.setInputFiles({ name: 'broken.mp4', mimeType: 'video/mp4', buffer: Buffer.from('\0\0\0\x20ftypisom cut short', 'latin1') });
  await expect(ann.page.getByRole('alert')).toHaveText(
    'broken.mp4: This video was not sent: the video file is damaged or not what its type says, so Natter could not remove where and when it was filmed.',
  );
  expect(uploads).toEqual([]);

  const original = asFromAPhone(await recordedMp4(ann.page, 1000));
  for (const trace of traces) expect(has(original, trace)).toBe(true);
  await picker.setInputFiles({ name: 'IMG_0042.mp4', mimeType: 'video/mp4', buffer: original });
  await expect(ann.page.locator('.bubble-row.mine[data-seq]')).toHaveCount(1, { timeout: 20_000 });

  const [message] = await history(ann.page);
  // The player read the stripped file: it has a poster and a size.
  expect(message.attachment).toMatchObject({ kind: 'video', content_type: 'video/mp4', size: original.length, width: 320, height: 240 });
  const stored = await storedFile(ann.page, server, message.attachment.id);
  expect(stored.bytes.length).toBe(original.length);
  for (const trace of traces) expect(has(stored.bytes, trace), trace).toBe(false);
  const mvhd = stored.bytes.indexOf('mvhd', 0, 'latin1');
  expect(stored.bytes.readUInt32BE(mvhd + 8)).toBe(0);

  // Bob's player plays it.
  await bob.page.getByRole('button', { name: /1 unread/ }).click();
  const player = bob.page.getByLabel('Video', { exact: true });
  await expect(player).toHaveAttribute('src', `/api/media/${message.attachment.id}`);
  await player.evaluate((video) => {
    video.preload = 'auto';
    video.load();
  });
  await expect.poll(() => player.evaluate((video) => video.videoWidth)).toBe(320);

  await ann.context.close();
  await bob.context.close();
});
