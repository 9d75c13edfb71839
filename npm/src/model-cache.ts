// The files the engine loads (pretrained weights, tokenizer, the engine's .wasm modules) kept across
// visits in the browser's Cache API, keyed by URL. A kept copy is revalidated with the server
// on every load (If-None-Match / If-Modified-Since from the ETag / Last-Modified it was stored
// with): a 304 costs no bytes, a changed file replaces it, and when the server cannot be reached
// (offline) the kept copy is used. A server that sends neither validator gets a full download each
// time (the kept copy still serves offline). Runs in the worker and on the page (clearCache).

/** The Cache API store; versioned so that a change of what is stored starts afresh. */
export const CACHE_NAME = 'burn-finetune-files-v1';

/** A loaded file: its response (body not read yet), whether it came from the kept copy, and a
 * promise of the outcome of keeping it (a message when it could not be kept, else null). */
export interface Loaded { response: Response; fromCache: boolean; kept: Promise<string | null> }

async function openCache(): Promise<Cache | null> {
  try {
    return typeof caches === 'undefined' ? null : await caches.open(CACHE_NAME);
  } catch {
    return null; // storage blocked (e.g. some private windows): load from the network
  }
}

/** Why `what` (`size` bytes) could not be kept, for the user. */
function keepFailure(err: unknown, what: string, size: number | null): string {
  const mb = size ? ` (${(size / 1e6).toFixed(1)} MB)` : '';
  return (err as DOMException)?.name === 'QuotaExceededError'
    ? `This browser's storage is full: the ${what}${mb} could not be kept for the next visit and will download again. Free some space (e.g. models kept in this browser, or site data) to keep it.`
    : `The ${what} could not be kept for the next visit (${(err as Error)?.message ?? err}); it will download again.`;
}

/**
 * Loads `url` (`what`: its name in messages), through the kept copy when `useCache`; throws with a
 * readable reason when neither the server nor a kept copy can give it.
 */
export async function loadFile(url: string, what: string, useCache: boolean): Promise<Loaded> {
  const cache = useCache ? await openCache() : null;
  const kept = await cache?.match(url).catch(() => undefined);
  const conditional: Record<string, string> = {};
  const etag = kept?.headers.get('etag');
  const modified = kept?.headers.get('last-modified');
  if (etag) conditional['if-none-match'] = etag;
  if (modified) conditional['if-modified-since'] = modified;
  let response: Response;
  try {
    // With validators of its own the request bypasses the HTTP cache (a 304 comes back as is).
    response = await fetch(url, kept ? { headers: conditional, cache: 'no-store' } : {});
  } catch (err) {
    if (kept) return { response: kept, fromCache: true, kept: Promise.resolve(null) };
    throw new Error(`The ${what} ${url} could not be fetched (${(err as Error).message}).`);
  }
  if (kept && (response.status === 304 || response.status >= 500)) {
    return { response: kept, fromCache: true, kept: Promise.resolve(null) };
  }
  if (!response.ok) throw new Error(`The ${what} ${url} could not be fetched (HTTP ${response.status}).`);
  if (!cache) return { response, fromCache: false, kept: Promise.resolve(null) };
  const size = Number(response.headers.get('content-length')) || null;
  const keeping = cache.put(url, response.clone()).then(() => null, (err) => keepFailure(err, what, size));
  return { response, fromCache: false, kept: keeping };
}

/** Empties the kept files (the next load downloads them again); false when there was nothing. */
export async function clearCache(): Promise<boolean> {
  return typeof caches === 'undefined' ? false : caches.delete(CACHE_NAME);
}
