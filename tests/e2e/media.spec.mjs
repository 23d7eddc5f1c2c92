// Received media show in the conversation: a photo's thumbnail at once and
// the full picture in a viewer that Esc closes; a video with its poster; a
// voice message with its length. A voice message deleted for everyone
// leaves no copy on the devices that kept it.
import { test, expect, signUp, openChatWith, uniqueName, befriend } from './fixtures.mjs';

test('photos, videos and voice messages from the other side are shown', async ({ browser, server }) => {
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const bob = await signUp(browser, server, bobName);
  const ann = await signUp(browser, server, annName);
  await befriend(bob, ann);
  await openChatWith(ann.page, bobName);

  // Ann's device uploads three files and sends them over the real protocol.
  const sent = await ann.page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 480;
    const context = canvas.getContext('2d');
    context.fillStyle = '#3ddc97';
    context.fillRect(0, 0, 640, 480);
    context.fillStyle = '#5b3fd6';
    context.fillRect(80, 80, 300, 200);
    const photo = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
    const small = document.createElement('canvas');
    small.width = 160;
    small.height = 120;
    small.getContext('2d').drawImage(canvas, 0, 0, 160, 120);
    const thumbnail = small.toDataURL('image/jpeg', 0.7);
    const video = new Blob([new Uint8Array([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x6d, 0x70, 0x34, 0x32, 0, 0, 0, 0])]);
    const voice = new Blob([new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01])]);

    const list = await (await fetch('/api/conversations')).json();
    const conversation = list[0].id;
    const upload = async (kind, type, blob) => {
      const response = await fetch(`/api/media?conversation=${conversation}&kind=${kind}`, {
        method: 'POST',
        headers: { 'Content-Type': type },
        body: blob,
      });
      if (response.status !== 201) throw new Error(`upload ${kind}: ${response.status}`);
      return response.json();
    };
    const attachments = [
      { ...(await upload('image', 'image/jpeg', photo)), width: 640, height: 480, thumbnail },
      { ...(await upload('video', 'video/mp4', video)), width: 640, height: 480, duration_ms: 3000, thumbnail },
      { ...(await upload('voice', 'audio/webm;codecs=opus', voice)), duration_ms: 5200, waveform: [10, 200, 90, 30] },
    ];
    const ws = new WebSocket(`ws://${location.host}/ws`);
    await new Promise((resolve, reject) => {
      let acks = 0;
      ws.onerror = () => reject(new Error('socket failed'));
      ws.onmessage = (event) => {
        const frame = JSON.parse(event.data);
        if (frame.type === 'error') reject(new Error(frame.message));
        if (frame.type === 'ack' && ++acks === attachments.length) resolve();
      };
      ws.onopen = () => {
        ws.send(JSON.stringify({ type: 'hello', version: 5, cursors: [] }));
        for (const attachment of attachments) {
          ws.send(JSON.stringify({ type: 'send', conversation, client_id: crypto.randomUUID(), body: '', attachment }));
        }
      };
    });
    ws.close();
    return attachments.map((a) => a.id);
  });
  expect(sent).toHaveLength(3);

  const row = bob.page.getByRole('button', { name: `${annName}, 3 unread` });
  await expect(row).toContainText('Voice message');
  await row.click();

  const photo = bob.page.getByRole('button', { name: 'Open photo' });
  await expect(photo.getByRole('img', { name: 'Photo' })).toHaveAttribute('src', /^data:image\/jpeg;base64,/);
  await expect(bob.page.getByLabel('Video', { exact: true })).toHaveAttribute('poster', /^data:image\/jpeg;base64,/);
  await expect(bob.page.getByLabel('Video', { exact: true })).toHaveAttribute('src', `/api/media/${sent[1]}`);
  await expect(bob.page.locator('.attachment.voice')).toContainText('0:06');

  await photo.click();
  const viewer = bob.page.getByRole('dialog', { name: 'Photo' });
  const full = viewer.getByRole('img', { name: 'Photo' });
  await expect(full).toHaveAttribute('src', `/api/media/${sent[0]}`);
  await expect.poll(() => full.evaluate((img) => img.naturalWidth)).toBe(640);
  await bob.page.screenshot({ path: new URL('../../target/screenshots/photo-viewer.png', import.meta.url).pathname });
  await bob.page.keyboard.press('Escape');
  await expect(viewer).toHaveCount(0);
  // Esc closed the viewer only: the conversation is still open.
  await expect(bob.page.getByRole('heading', { name: annName })).toBeVisible();
  await bob.page.screenshot({ path: new URL('../../target/screenshots/media-light.png', import.meta.url).pathname });

  // Bob's device kept the voice message, to play offline. Ann deletes it
  // for everyone: the copy goes from Bob's IndexedDB.
  const voiceKey = `media:${sent[2]}`;
  await expect.poll(() => filesOnDevice(bob.page)).toContain(voiceKey);
  const voiceRow = ann.page.locator('.bubble-row.mine').filter({ has: ann.page.locator('.attachment.voice') });
  await voiceRow.hover();
  await voiceRow.getByRole('button', { name: 'Message actions' }).click();
  await ann.page.getByRole('menu').getByRole('menuitem', { name: 'Delete for everyone' }).click();
  await expect(bob.page.locator('.attachment.voice')).toHaveCount(0);
  await expect(bob.page.locator('.tombstone')).toHaveText(['This message was deleted']);
  await expect.poll(() => filesOnDevice(bob.page)).not.toContain(voiceKey);
  const gone = await bob.page.evaluate((id) => fetch(`/api/media/${id}`).then((r) => r.status), sent[2]);
  expect(gone).toBe(404);

  await ann.context.close();
  await bob.context.close();
});

/** The keys of the files the page's account keeps in IndexedDB. */
async function filesOnDevice(page) {
  return page.evaluate(async () => {
    const keys = [];
    for (const { name } of await indexedDB.databases()) {
      if (!name.startsWith('natter-account-')) continue;
      const db = await new Promise((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      if (db.objectStoreNames.contains('files')) {
        keys.push(
          ...(await new Promise((resolve, reject) => {
            const request = db.transaction('files').objectStore('files').getAllKeys();
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => reject(request.error);
          })),
        );
      }
      db.close();
    }
    return keys;
  });
}
