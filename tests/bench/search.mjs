// The search benchmark's part: 100,000 messages saved on the device,
// written straight into the app's IndexedDB as the app saves them, the
// index made from them once, then (after a reload, as on a later day)
// loaded and queried through the app's search panel. The app's Performance
// measures say where the time goes: `natter:search-index` (reading the
// index from IndexedDB into memory), `natter:search-query` (answering a
// query) and, within it, `natter:search-match` (matching in memory; the
// rest is reading the shown messages from IndexedDB).

/** Words with a long tail, a few accented, as a language has them. */
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'su', 'ta', 'ri', 'po', 've', 'da', 'zu', 'fé', 'gi', 'hö', 'ja', 'ba', 'qui', 'chan', 'stra', 'ber'];

/** Fills `user`'s saved chats with `count` messages of conversation 999999 and forgets the index. */
function seed(page, user, count) {
  return page.evaluate(
    async ({ user, count, syllables }) => {
      let state = 7;
      const random = () => {
        state = (state * 1103515245 + 12345) % 2147483648;
        return state / 2147483648;
      };
      const vocabulary = Array.from({ length: 5000 }, () => {
        let word = '';
        for (let n = 2 + Math.floor(random() * 3); n > 0; n -= 1) word += syllables[Math.floor(random() * syllables.length)];
        return word;
      });
      const done = (tx) =>
        new Promise((resolve, reject) => {
          tx.oncomplete = resolve;
          tx.onerror = () => reject(tx.error);
        });
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open(`natter-account-${user}`);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const pad = (n) => String(n).padStart(20, '0');
      const conversation = 999999;
      for (let from = 1; from <= count; from += 10000) {
        const tx = db.transaction('messages', 'readwrite');
        const store = tx.objectStore('messages');
        for (let seq = from; seq < from + 10000 && seq <= count; seq += 1) {
          const length = 3 + Math.floor(random() * 14);
          // Squaring skews towards the first words: some common, most rare.
          const body = Array.from({ length }, () => vocabulary[Math.floor(random() ** 2 * vocabulary.length)]).join(' ');
          const message = { conversation, seq, client_id: crypto.randomUUID(), sender: 1, body, sent_at: 1_700_000_000_000 + seq * 1000 };
          store.put(message, `${pad(conversation)}:${pad(seq)}`);
        }
        await done(tx);
      }
      const meta = db.transaction('meta', 'readwrite');
      meta.objectStore('meta').delete('search-built');
      await done(meta);
      db.close();
      return vocabulary;
    },
    { user, count, syllables: SYLLABLES },
  );
}

/** The search index's stored text, in bytes (as UTF-16, which IndexedDB keeps strings in). */
function storedIndexBytes(page, user) {
  return page.evaluate(async (user) => {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open(`natter-account-${user}`);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const buckets = await new Promise((resolve, reject) => {
      const request = db.transaction('search').objectStore('search').getAll();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    db.close();
    return { bytes: buckets.reduce((sum, text) => sum + text.length * 2, 0), buckets: buckets.length };
  }, user);
}

const usage = (page) => page.evaluate(async () => (await navigator.storage.estimate()).usage);
const measures = (page, name) => page.evaluate((name) => performance.getEntriesByName(name).map((m) => m.duration), name);

/** Types `query` into the open search panel and waits for its answer. */
async function ask(page, query) {
  const box = page.getByRole('searchbox', { name: 'Search saved messages' });
  const status = page.locator('.search-panel [role="status"]');
  // Emptied first, the status is empty until this query's answer.
  await box.fill('');
  await box.fill(query);
  await page.waitForFunction(() => document.querySelector('.search-panel [role="status"]')?.textContent);
  return status.textContent();
}

/** Runs the search benchmark in `page` (signed in as `user`, its chats saved). */
export async function benchSearch(page, user, count) {
  const before = await usage(page);
  const vocabulary = await seed(page, user, count);
  await page.reload();
  await page.locator('.conversation-row').first().waitFor();
  // The first search makes the index from every saved message (once per
  // device), then it is kept up to date message by message.
  await page.getByRole('button', { name: 'Search messages' }).click();
  const built = Date.now();
  await ask(page, vocabulary[0]);
  const buildMs = Date.now() - built;
  const stored = await storedIndexBytes(page, user);
  const grown = (await usage(page)) - before;

  // A later start: the index is read into memory by the first search.
  const queries = [vocabulary[0], vocabulary[1].slice(0, 2), vocabulary[4000], `${vocabulary[3]} ${vocabulary[7].slice(0, 3)}`, 'zz'];
  const loads = [];
  const answers = [];
  const matches = [];
  const said = [];
  for (let run = 0; run < 5; run++) {
    await page.reload();
    await page.locator('.conversation-row').first().waitFor();
    await page.getByRole('button', { name: 'Search messages' }).click();
    await page.evaluate(() => performance.clearMeasures());
    for (const query of queries) said.push(await ask(page, query));
    loads.push(...(await measures(page, 'natter:search-index')));
    answers.push(...(await measures(page, 'natter:search-query')));
    matches.push(...(await measures(page, 'natter:search-match')));
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return {
    messages: count,
    buildMs,
    loadMs: median(loads),
    queryMs: median(answers),
    matchMs: median(matches),
    slowestMatchMs: Math.max(...matches),
    slowestQueryMs: Math.max(...answers),
    queries: queries.map((query, n) => `“${query}”: ${said[n]}`),
    indexBytes: stored.bytes,
    buckets: stored.buckets,
    storageGrowth: grown,
  };
}
