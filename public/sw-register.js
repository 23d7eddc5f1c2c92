// Registers the service worker and tells the app when a newer build is
// ready: it dispatches `natter:update-ready` on window, and applies the update
// (then reloads) on `natter:apply-update`. It looks for new builds at start,
// every half hour, and when the network comes back. It also keeps the
// browser's offer to install the app.
(() => {
  if (!('serviceWorker' in navigator)) return;
  const CHECK_EVERY_MS = 30 * 60 * 1000;
  let waiting = null;

  const announce = (worker) => {
    waiting = worker;
    window.natterUpdateReady = true;
    window.dispatchEvent(new Event('natter:update-ready'));
  };

  // Installing: the browser's offer is kept for the app's "Install Natter"
  // button (`natter:install-ready` says whether there is one), and used on
  // `natter:install`.
  let offer = null;
  const offered = (event) => {
    offer = event;
    window.natterCanInstall = Boolean(event);
    window.dispatchEvent(new Event('natter:install-ready'));
  };
  window.addEventListener('beforeinstallprompt', (event) => {
    event.preventDefault();
    offered(event);
  });
  window.addEventListener('appinstalled', () => offered(null));
  window.addEventListener('natter:install', () => {
    // An offer prompts once; if declined, the browser may offer again later.
    if (offer) offer.prompt();
    offered(null);
  });

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
