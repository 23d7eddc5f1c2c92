// What the Playwright suite and the client benchmark (tests/bench/) share.
// No Playwright imports here: the benchmark runs outside the test runner.

/** Chromium's flags for this machine: no sandbox, no GPU, a closed network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * From `page` (signed in, on the server's origin), sends `total` messages
 * into the user's first conversation over the real protocol, all at once,
 * as another device of theirs would. Resolves with the number acknowledged.
 */
export function seedConversation(page, total) {
  return page.evaluate(async (total) => {
    const list = await (await fetch('/api/conversations')).json();
    const conversation = list[0].id;
    const ws = new WebSocket(`ws://${location.host}/ws`);
    let acks = 0;
    return new Promise((resolve, reject) => {
      ws.onerror = () => reject(new Error('socket failed'));
      ws.onmessage = (event) => {
        const frame = JSON.parse(event.data);
        if (frame.type === 'ack' && ++acks === total) {
          ws.close();
          resolve(acks);
        }
        if (frame.type === 'error') reject(new Error(frame.message));
      };
      ws.onopen = () => {
        ws.send(JSON.stringify({ type: 'hello', version: 5, cursors: [] }));
        for (let n = 1; n <= total; n++) {
          ws.send(JSON.stringify({ type: 'send', conversation, client_id: crypto.randomUUID(), body: `message ${n}` }));
        }
      };
    });
  }, total);
}
