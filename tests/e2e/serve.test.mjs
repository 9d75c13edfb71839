// The test and bench server (scripts/serve.mjs), attacked as a hostile page or client would: a
// sibling folder through an encoded `..`, a malformed %-escape (once an exception that killed the
// server), another Host (DNS rebinding); and the page's security policy, sent as a header by it
// and by the demo's Trunk, in step with the page's <meta>.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CSP, PAGE, serve } from '../../scripts/serve.mjs';

/** A raw GET (no URL normalisation by the client), resolving to `{ status, headers, body }`. */
function get(url, path, host) {
  const { hostname, port } = new URL(url);
  return new Promise((ok, fail) => {
    const req = request({ hostname, port, path, headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

test('the server keeps to its folder, survives malformed URLs, answers only its own name', async () => {
  const base = mkdtempSync(join(tmpdir(), 'serve-'));
  mkdirSync(join(base, 'web'));
  mkdirSync(join(base, 'web-secrets'));
  writeFileSync(join(base, 'web', 'index.html'), '<p>page</p>');
  writeFileSync(join(base, 'web-secrets', 'key.txt'), 'secret');
  const server = await serve(join(base, 'web'), { headers: PAGE });
  try {
    const page = await get(server.url, '/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-security-policy'], CSP);
    // `web-secrets` starts with `web`: a prefix test without the separator served it.
    for (const path of ['/..%2Fweb-secrets%2Fkey.txt', '/../web-secrets/key.txt', '/%2e%2e/web-secrets/key.txt']) {
      const r = await get(server.url, path);
      assert.notEqual(r.status, 200, path);
      assert.doesNotMatch(r.body, /secret/, path);
    }
    assert.equal((await get(server.url, '/%E0%A4%A')).status, 400);
    assert.equal((await get(server.url, '/')).status, 200, 'still serving after the malformed URL');
    const port = new URL(server.url).port;
    assert.equal((await get(server.url, '/', `attacker.example:${port}`)).status, 421);
    assert.equal((await get(server.url, '/', `localhost:${port}`)).status, 200);
  } finally {
    await server.close();
  }
});

test('one security policy: the page\'s <meta>, serve.mjs\'s header and Trunk\'s header', () => {
  const meta = readFileSync('www/index.html', 'utf8').match(/http-equiv="Content-Security-Policy" content="([^"]+)"/)[1];
  assert.equal(CSP, `${meta}; frame-ancestors 'none'`, 'the header is the <meta> plus frame-ancestors (a <meta> cannot carry it)');
  const trunk = readFileSync('Trunk.toml', 'utf8').match(/"Content-Security-Policy" = "([^"]+)"/)[1];
  assert.equal(trunk, CSP);
});
