// Natter's service worker: keeps the app shell (index.html, the
// stylesheet and every module of the app, loaded on demand or not) so that
// the app opens, and shows the chats saved in IndexedDB, while the server is
// unreachable.
//
// `cargo xtask` stamps the build's name (a hash of everything it built but
// this file) into BUILD below, so every build's
// worker differs byte for byte: the browser installs it beside the running
// one, with a cache of its own. The new worker waits until the page asks it
// to take over ("new version ready — reload"); until then pages keep opening
// on the build they have, from its cache, even online.

const BUILD = 'dev';
// The build's app directory: its script, its main wasm, and every part
// loaded on demand (stamped by `cargo xtask` too), saved at install.
const APP_FILES = [];
const CACHE = `natter-shell-${BUILD}`;
// Built files are named by a 64-bit hash in hex (`main-<hash>.css`), or
// live in `/app-<hash>/`.
const HASHED = /(-[0-9a-f]{16}\.css$)|(^\/app-[0-9a-f]{16}\/)/;
const STATIC = ['/manifest.webmanifest', '/icon.svg', '/icon-192.png', '/sw-register.js'];
// Avatars, group pictures and link previews' pictures: their URL names
// their content, so a saved copy is always right. Kept across builds (the app deletes them at
// logout), the most recent few hundred only.
const PICTURES = 'natter-pictures';
const PICTURES_PATHS = ['/api/avatars/', '/api/previews/images/'];
const PICTURES_KEPT = 500;

// What other apps share with Natter (the manifest's `share_target`) is
// posted here; the worker keeps it for the app, which reads it once.
const SHARE_PATH = '/share';
const SHARE_DB = 'natter-share';
const SHARE_STORE = 'shares';
// The most pictures and videos one share brings.
const SHARE_FILES = 10;

// Unstamped (`trunk serve`), the worker stays out of the way so that live
// reloading always shows the newest code.
const DEVELOPMENT = BUILD === 'dev';

self.addEventListener('install', (event) => {
  if (DEVELOPMENT) return;
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const index = await fetch('/', { cache: 'no-cache' });
      if (!index.ok) throw new Error(`index.html: HTTP ${index.status}`);
      const html = await index.clone().text();
      // A deploy between fetching this worker and the page would mix two
      // builds in one cache: refuse, and the next check installs the new one.
      const app = APP_FILES.length ? APP_FILES[0].split('/')[1] : null;
      if (app && !html.includes(app)) throw new Error('index.html is from another build');
      const assets = new Set([...STATIC, ...APP_FILES]);
      for (const match of html.matchAll(/["'](\/[^"']+)["']/g)) {
        if (HASHED.test(match[1])) assets.add(match[1]);
      }
      await cache.addAll([...assets]);
      await cache.put('/', index);
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('natter-shell-') && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'take-over') self.skipWaiting();
});

// Web Push: the server sends `{conversation, title, body}` (encrypted for
// this browser, which decrypts it) when a message arrives and no Natter tab
// of the person's is on screen. Shown like the app's own notifications:
// one per conversation, the newest replacing the last.
self.addEventListener('push', (event) => {
  let push = null;
  try {
    push = event.data ? event.data.json() : null;
  } catch {
    push = null;
  }
  const conversation = push && Number.isSafeInteger(push.conversation) ? push.conversation : null;
  const title = push && typeof push.title === 'string' ? push.title : 'Natter';
  const body = push && typeof push.body === 'string' ? push.body : 'New message';
  event.waitUntil(
    (async () => {
      // A tab that came on screen meanwhile shows the message itself.
      const windows = await self.clients.matchAll({ type: 'window' });
      if (windows.some((client) => client.visibilityState === 'visible')) return;
      await self.registration.showNotification(title, {
        body,
        tag: conversation ? `conversation-${conversation}` : 'natter',
        renotify: true,
        icon: '/icon-192.png',
        data: conversation ? { conversation } : {},
      });
    })(),
  );
});

// A click on a message notification: the app's open window comes to the
// front and opens the conversation; without one, a new window opens on it.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const conversation = event.notification.data && event.notification.data.conversation;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
      if (open) {
        await open.focus();
        if (conversation) open.postMessage({ type: 'open-conversation', conversation });
        return;
      }
      await self.clients.openWindow(conversation ? `/#conversation=${conversation}` : '/');
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method === 'POST' && url.pathname === SHARE_PATH && url.origin === self.location.origin) {
    // Whatever goes wrong, the app opens (without a share).
    event.respondWith(keepShared(request).catch(() => Response.redirect('/', 303)));
    return;
  }
  if (DEVELOPMENT) return;
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (PICTURES_PATHS.some((path) => url.pathname.startsWith(path))) {
    event.respondWith(picture(request));
    return;
  }
  if (url.pathname.startsWith('/api/') || url.pathname === '/ws') return;

  if (request.mode === 'navigate') {
    // The saved shell first: it opens at once, with or without a server,
    // and always matches the files this worker saved.
    event.respondWith(
      (async () => (await caches.match('/', { cacheName: CACHE })) || fetch(request))(),
    );
    return;
  }
  if (HASHED.test(url.pathname)) {
    // Content-hashed files never change: the saved copy is always right.
    event.respondWith(
      (async () => {
        const saved = await caches.match(request, { cacheName: CACHE });
        if (saved) return saved;
        const response = await fetch(request);
        if (response.ok) (await caches.open(CACHE)).put(request, response.clone());
        return response;
      })(),
    );
    return;
  }
  if (STATIC.includes(url.pathname)) {
    event.respondWith(
      fetch(request).catch(async () => (await caches.match(url.pathname, { cacheName: CACHE })) || Response.error()),
    );
  }
});

async function picture(request) {
  const cache = await caches.open(PICTURES);
  const saved = await cache.match(request);
  if (saved) return saved;
  const response = await fetch(request);
  if (response.ok) {
    await cache.put(request, response.clone());
    const keys = await cache.keys();
    for (const old of keys.slice(0, Math.max(0, keys.length - PICTURES_KEPT))) {
      await cache.delete(old);
    }
  }
  return response;
}

// Keeps a share (its title, text, link and pictures or videos) in
// IndexedDB, where the app reads it (`src/share.rs`), and opens the app on
// its "Send to…" question. A newer share replaces one never sent.
async function keepShared(request) {
  // The system's share sheet sends no referrer; a web page posting here
  // would name itself (and one that hides it still needs a click on a
  // conversation, after the app shows every part of the share).
  if (request.referrer && new URL(request.referrer).origin !== self.location.origin) {
    return Response.redirect('/', 303);
  }
  const form = await request.formData();
  const field = (name) => {
    const value = form.get(name);
    return typeof value === 'string' ? value : '';
  };
  const shared = {
    title: field('title'),
    text: field('text'),
    url: field('url'),
    files: form
      .getAll('media')
      .filter((file) => file instanceof File && file.size > 0 && /^(image|video)\//.test(file.type))
      .slice(0, SHARE_FILES),
  };
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open(SHARE_DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(SHARE_STORE);
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  try {
    await new Promise((resolve, reject) => {
      const tx = db.transaction(SHARE_STORE, 'readwrite');
      tx.objectStore(SHARE_STORE).put(shared, 'latest');
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
  return Response.redirect('/#share', 303);
}
