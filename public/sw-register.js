// Registers the service worker and tells the app when a newer build is
// ready: it dispatches `natter:update-ready` on window, and applies the update
// (then reloads) on `natter:apply-update`. It looks for new builds at start,
// every half hour, and when the network comes back.
(() => {
  if (!('serviceWorker' in navigator)) return;
  const CHECK_EVERY_MS = 30 * 60 * 1000;
  let waiting = null;

  const announce = (worker) => {
    waiting = worker;
    window.natterUpdateReady = true;
    window.dispatchEvent(new Event('natter:update-ready'));
  };

  window.addEventListener('natter:apply-update', () => {
    if (waiting) waiting.postMessage({ type: 'take-over' });
    else window.location.reload();
  });

  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    // Only a worker that replaced another means a new build: reload onto it.
    if (waiting && !reloading) {
      reloading = true;
      window.location.reload();
    }
  });

  window.addEventListener('load', async () => {
    try {
      const registration = await navigator.serviceWorker.register('/sw.js');
      const check = () => registration.update().catch(() => {});
      setInterval(check, CHECK_EVERY_MS);
      window.addEventListener('online', check);
      const watch = (worker) => {
        worker.addEventListener('statechange', () => {
          if (worker.state === 'installed' && navigator.serviceWorker.controller) announce(worker);
        });
      };
      if (registration.waiting && navigator.serviceWorker.controller) announce(registration.waiting);
      if (registration.installing) watch(registration.installing);
      registration.addEventListener('updatefound', () => watch(registration.installing));
    } catch (err) {
      console.warn('Natter works without offline start here:', err);
    }
  });
})();
