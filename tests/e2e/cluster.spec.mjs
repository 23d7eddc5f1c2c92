// The outage drill through the balancer of a cluster: `cargo xtask test`
// starts PostgreSQL, NATS, two nodes and HAProxy, and names them in the file
// NATTER_CLUSTER points to. One node dies; people whose app talked to it
// carry on through the other, and nothing typed is lost or doubled.
import { readFileSync } from 'node:fs';
import { test, expect, signUp, openChatWith, send, uniqueName, bodies, befriend } from './fixtures.mjs';

const described = process.env.NATTER_CLUSTER;

test('one node of two dies: chat goes on through the other, each message once', async ({ browser }) => {
  test.skip(!described, 'needs the cluster `cargo xtask test` starts');
  // An app whose node died reconnects after a backoff of up to a few seconds.
  test.setTimeout(120_000);
  const cluster = JSON.parse(readFileSync(described, 'utf8'));
  const server = { url: cluster.url };
  const annName = uniqueName('ann');
  const bobName = uniqueName('bob');
  const ann = await signUp(browser, server, annName);
  const bob = await signUp(browser, server, bobName);
  await befriend(ann, bob);
  await openChatWith(ann.page, bobName);
  await openChatWith(bob.page, annName);
  await send(ann.page, 'both nodes up');
  await expect(bodies(bob.page)).toHaveText(['both nodes up']);

  // Someone's app must be talking to node one when it dies: the balancer
  // spreads sockets round robin, so a reload or two puts one there.
  const doomed = cluster.nodes[0];
  const socketsOn = async (node) => {
    const metrics = await (await fetch(`http://127.0.0.1:${node.port}/metrics`)).text();
    return Number(/^natter_sockets (\d+)/m.exec(metrics)[1]);
  };
  for (let tries = 0; (await socketsOn(doomed)) === 0; tries++) {
    expect(tries, 'an app reconnects to node one').toBeLessThan(10);
    await bob.page.reload();
    await openChatWith(bob.page, annName);
  }
  // Node one is killed outright: whatever it had acked is in the database.
  process.kill(doomed.pid, 'SIGKILL');
  for (const text of ['node down 1', 'node down 2', 'node down 3']) await send(ann.page, text);
  await send(bob.page, 'still here');
  // Who gets through first (and so which seqs each message takes) depends on
  // whose app was talking to the dead node: both see the same five, in the
  // server's order, each once, and Ann's three in the order she typed them.
  const typed = ['both nodes up', 'node down 1', 'node down 2', 'node down 3', 'still here'];
  const shown = async (page) => (await bodies(page).allTextContents()).sort();
  await expect.poll(() => shown(bob.page), { timeout: 60_000 }).toEqual([...typed].sort());
  await expect.poll(() => shown(ann.page), { timeout: 60_000 }).toEqual([...typed].sort());
  const history = await ann.page.evaluate(async () => {
    const list = await (await fetch('/api/conversations')).json();
    return (await fetch(`/api/conversations/${list[0].id}/messages`)).json();
  });
  expect(history.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  const order = history.map((m) => m.body);
  expect(order.filter((body) => body.startsWith('node down'))).toEqual(['node down 1', 'node down 2', 'node down 3']);
  await expect(bodies(ann.page)).toHaveText(order);
  await expect(bodies(bob.page)).toHaveText(order);
  // Bob has the conversation open: Ann sees her last message read.
  const annRows = ann.page.locator('.bubble-row.mine');
  await expect(annRows.last().getByRole('img', { name: 'Read' })).toBeVisible({ timeout: 30_000 });
  await ann.page.screenshot({
    path: new URL('../../target/screenshots/cluster-node-down.png', import.meta.url).pathname,
  });

  // A reload goes through the balancer to the node that is left.
  await ann.page.reload();
  await expect(bodies(ann.page)).toHaveText(order);

  await ann.context.close();
  await bob.context.close();
});
