// A minimal static file server for the built page (tests and benchmarks), bound to 127.0.0.1.
// Usage: node scripts/serve.mjs [DIR] [PORT]   (PORT 0: pick a free one; prints the URL)
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png',
  '.jpg': 'image/jpeg', '.map': 'application/json', '.safetensors': 'application/octet-stream',
};

/** Cross-origin isolation (SharedArrayBuffer: the CPU engine trains on every core). */
export const ISOLATED = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/**
 * Serves `dir`; resolves to `{ url, close }`. `onRequest(path)` sees every request; `mounts` maps
 * URL prefixes (`/bench-data/`) to other folders; `headers` go on every response (e.g. COOP/COEP
 * for cross-origin isolation, which wasm threads need).
 */
export function serve(dir, port = 0, onRequest = () => {}, mounts = {}, headers = {}) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    onRequest(path);
    const [prefix, mounted] = Object.entries(mounts).find(([p]) => path.startsWith(p)) ?? ['/', dir];
    const root = resolve(mounted);
    let file = normalize(join(root, path.slice(prefix.length - 1)));
    if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache', ...headers });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => {
    ok({ url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((done) => server.close(done)) });
  }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { url } = await serve(process.argv[2] ?? 'build/web', Number(process.argv[3] ?? 8080), () => {}, {}, ISOLATED);
  console.log(`serving on ${url}`);
}
