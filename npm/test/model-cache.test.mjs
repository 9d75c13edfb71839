// Unit tests of the files kept across visits (npm/src/model-cache.ts) against a scripted server
// (fetch) and an in-memory Cache API: revalidation with the stored validators, 304 and offline
// answered from the kept copy, a changed file replacing it, `cache: false`, a full quota. The real
// Cache API is exercised by tests/e2e/consumer.test.mjs (second visit, offline).
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';

const { outputFiles: [bundle] } = await build({ entryPoints: [new URL('../src/model-cache.ts', import.meta.url).pathname], bundle: true, format: 'esm', write: false });
const { loadFile, clearCache, CACHE_NAME } = await import(`data:text/javascript;base64,${Buffer.from(bundle.text).toString('base64')}`);

const URL_ = 'https://example.test/model.safetensors';

/** An in-memory CacheStorage with one store; `failPut` makes `put` fail as a full quota does. */
class MemoryCaches {
  stores = new Map();
  failPut = false;
  async open(name) {
    if (!this.stores.has(name)) {
      const entries = new Map();
      this.stores.set(name, {
        match: async (url) => entries.get(url)?.clone(),
        put: async (url, response) => {
          const body = await response.arrayBuffer(); // consumed as the real put does
          if (this.failPut) throw new DOMException('quota', 'QuotaExceededError');
          entries.set(url, new Response(body, { status: response.status, headers: response.headers }));
        },
      });
    }
    return this.stores.get(name);
  }
  async delete(name) { return this.stores.delete(name); }
}

/** The server: `body`, `etag`; `down` refuses connections; records what each request sent. */
const server = { body: 'v1', etag: '"1"', lastModified: null, down: false, status: null, requests: [] };
async function fakeFetch(url, init = {}) {
  const headers = new Headers(init.headers);
  server.requests.push({ url, ifNoneMatch: headers.get('if-none-match'), ifModifiedSince: headers.get('if-modified-since'), cache: init.cache });
  if (server.down) throw new TypeError('Failed to fetch');
  if (server.status) return new Response('', { status: server.status });
  const validators = { ...(server.etag ? { etag: server.etag } : {}), ...(server.lastModified ? { 'last-modified': server.lastModified } : {}) };
  if (server.etag && headers.get('if-none-match') === server.etag) return new Response(null, { status: 304, headers: validators });
  return new Response(server.body, { status: 200, headers: { 'content-length': String(server.body.length), ...validators } });
}

const text = async (loaded) => loaded.response.text();

beforeEach(() => {
  globalThis.caches = new MemoryCaches();
  globalThis.fetch = fakeFetch;
  Object.assign(server, { body: 'v1', etag: '"1"', lastModified: null, down: false, status: null, requests: [] });
});

test('the first load comes from the network and is kept; the next one revalidates (304) and uses the kept copy', async () => {
  const first = await loadFile(URL_, 'weights file', true);
  assert.equal(first.fromCache, false);
  assert.equal(await text(first), 'v1');
  assert.equal(await first.kept, null);
  const second = await loadFile(URL_, 'weights file', true);
  assert.equal(second.fromCache, true);
  assert.equal(await text(second), 'v1');
  assert.deepEqual(server.requests[1], { url: URL_, ifNoneMatch: '"1"', ifModifiedSince: null, cache: 'no-store' });
});

test('a file changed on the server replaces the kept copy', async () => {
  await (await loadFile(URL_, 'weights file', true)).kept;
  Object.assign(server, { body: 'v2', etag: '"2"' });
  const changed = await loadFile(URL_, 'weights file', true);
  assert.equal(changed.fromCache, false);
  assert.equal(await text(changed), 'v2');
  await changed.kept;
  assert.equal(await text(await loadFile(URL_, 'weights file', true)), 'v2');
  assert.equal(server.requests.at(-1).ifNoneMatch, '"2"');
});

test('offline or a failing server: the kept copy; nothing kept: a readable error', async () => {
  await (await loadFile(URL_, 'weights file', true)).kept;
  server.down = true;
  const offline = await loadFile(URL_, 'weights file', true);
  assert.equal(offline.fromCache, true);
  assert.equal(await text(offline), 'v1');
  server.down = false;
  server.status = 503;
  assert.equal(await text(await loadFile(URL_, 'weights file', true)), 'v1');
  server.status = 404;
  await assert.rejects(loadFile(URL_, 'weights file', true), /The weights file https:\/\/example\.test\/model\.safetensors could not be fetched \(HTTP 404\)/);
  await clearCache();
  server.status = null;
  server.down = true;
  await assert.rejects(loadFile(URL_, 'weights file', true), /could not be fetched \(Failed to fetch\)/);
});

test('Last-Modified alone is a validator; with none the file is downloaded each time', async () => {
  Object.assign(server, { etag: null, lastModified: 'Sun, 29 Nov 2026 10:00:00 GMT' });
  await (await loadFile(URL_, 'weights file', true)).kept;
  await loadFile(URL_, 'weights file', true);
  assert.equal(server.requests[1].ifModifiedSince, 'Sun, 29 Nov 2026 10:00:00 GMT');
  Object.assign(server, { lastModified: null });
  await clearCache();
  await (await loadFile(URL_, 'weights file', true)).kept;
  const again = await loadFile(URL_, 'weights file', true);
  assert.equal(again.fromCache, false, 'nothing to revalidate with: downloaded again');
  assert.deepEqual([server.requests.at(-1).ifNoneMatch, server.requests.at(-1).ifModifiedSince], [null, null]);
});

test('cache: false neither reads nor keeps; a full quota is a message, and the file still loads', async () => {
  const plain = await loadFile(URL_, 'weights file', false);
  assert.equal(await text(plain), 'v1');
  assert.equal(globalThis.caches.stores.size, 0);
  globalThis.caches.failPut = true;
  const full = await loadFile(URL_, 'weights file', true);
  assert.equal(await text(full), 'v1');
  assert.match(await full.kept, /^This browser's storage is full: the weights file \(0\.0 MB\) could not be kept for the next visit and will download again\./);
  assert.equal(await clearCache(), true);
  assert.equal(globalThis.caches.stores.has(CACHE_NAME), false);
});
