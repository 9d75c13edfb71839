// A minimal static file server for the built page (tests and benchmarks), bound to 127.0.0.1.
// It sends validators (ETag, Last-Modified) with `Cache-Control: no-cache` and answers
// conditional requests with 304, as a production server would: the package's model cache
// revalidates its copies with them. It serves nothing outside its folders (a path that leaves
// them, even through an encoded `..%2F`, is refused), answers a malformed URL with 400 instead of
// dying, and only answers requests addressed to 127.0.0.1 or localhost (a page on another name
// resolved to this machine — DNS rebinding — gets 421).
// Usage: node scripts/serve.mjs [DIR] [PORT]   (PORT 0: pick a free one; prints the URL)
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png',
  '.jpg': 'image/jpeg', '.map': 'application/json', '.safetensors': 'application/octet-stream',
};

/** Cross-origin isolation (SharedArrayBuffer: the CPU engine trains on every core). */
export const ISOLATED = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/** The page's Content-Security-Policy (the `<meta>` of www/index.html) as a header, so that it
 * also covers the worker (a worker takes its policy from its own response), plus what only a
 * header can say: no other site may frame the page. Trunk.toml sends the same for the demo. */
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; style-src 'self'; "
  + "img-src 'self' data: blob:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** What the page is served with: cross-origin isolation and its security policy. */
export const PAGE = { ...ISOLATED, 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' };

/** Whether `host` (a Host header) names this server: 127.0.0.1 or localhost, on its port. */
function ours(host, port) {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/** Whether a request's validators match the file's (then 304: the client's copy is current). */
function unchanged(req, etag, modified) {
  const match = req.headers['if-none-match'];
  if (match) return match.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*');
  const since = Date.parse(req.headers['if-modified-since'] ?? '');
  return Number.isFinite(since) && Math.floor(modified.getTime() / 1000) <= Math.floor(since / 1000);
}

/**
 * Serves `dir`; resolves to `{ url, close, offline }`.
 * - `headers` go on every response (e.g. ISOLATED, which wasm threads need);
 * - `mounts` maps URL prefixes (`/bench-data/`) to other folders;
 * - `onResponse({ path, status, bytes })` sees every answer (`bytes`: body bytes sent);
 * - setting `offline` on the result cuts the network: `true` for every request, or a function of
 *   the path for some; their connections are dropped unanswered, as when the machine is offline.
 */
export function serve(dir, { port = 0, headers = {}, mounts = {}, onResponse = () => {} } = {}) {
  const state = { offline: false };
  const server = createServer(async (req, res) => {
    let path = req.url ?? '';
    const answer = (status, head = {}, body = undefined) => {
      res.writeHead(status, { ...head, ...headers }).end(body);
      onResponse({ path, status, bytes: body?.length ?? 0 });
    };
    if (!ours(req.headers.host, server.address().port)) { answer(421, {}, 'this server answers 127.0.0.1 only'); return; }
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      answer(400, {}, 'malformed URL');
      return;
    }
    if (state.offline === true || (typeof state.offline === 'function' && state.offline(path))) { req.socket.destroy(); return; }
    const [prefix, mounted] = Object.entries(mounts).find(([p]) => path.startsWith(p)) ?? ['/', dir];
    const root = resolve(mounted);
    let file = normalize(join(root, path.slice(prefix.length - 1)));
    if (file !== root && !file.startsWith(root + sep)) { answer(403); return; }
    try {
      let info = await stat(file);
      if (info.isDirectory()) { file = join(file, 'index.html'); info = await stat(file); }
      const etag = `"${info.size.toString(36)}-${Math.floor(info.mtimeMs).toString(36)}"`;
      const validators = { etag, 'last-modified': info.mtime.toUTCString(), 'cache-control': 'no-cache' };
      if (unchanged(req, etag, info.mtime)) { answer(304, validators); return; }
      const body = await readFile(file);
      answer(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length, ...validators },
        req.method === 'HEAD' ? undefined : body);
    } catch {
      answer(404, {}, 'not found');
    }
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => {
    ok(Object.assign(state, {
      url: `http://127.0.0.1:${server.address().port}/`,
      close: () => new Promise((done) => { server.closeAllConnections(); server.close(done); }),
    }));
  }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { url } = await serve(process.argv[2] ?? 'build/web', { port: Number(process.argv[3] ?? 8080), headers: PAGE });
  console.log(`serving on ${url}`);
}
