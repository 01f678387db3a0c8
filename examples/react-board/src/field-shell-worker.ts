/**
 * The field page's app shell: a service worker that keeps the built page and its assets in the Cache API,
 * so field mode opens and reloads with the network cut (the data is in IndexedDB already).
 *
 * This file is the worker's logic only. The build (`field/shell-worker-plugin.ts`) strips its types, adds
 * the list of files to keep and a version (a hash of those files and of this code) and emits it as
 * `/field-sw.js`, a classic script without imports. A new build changes the version, so the browser
 * installs the new worker, which fills a new cache and deletes the old ones when it takes over.
 *
 * What it answers: GET requests of this origin for a listed file, from the cache (hashed names: the
 * bytes never change under one name), and page navigations, with the cached page (the shell: the page
 * and its assets always come from one build). Everything else, above all the sync endpoint with its
 * live signal, is never answered from the cache: the worker lets it go to the network as if it were
 * not installed.
 */

/** The worker's script, at the root so that its scope (`/`) covers every page of the origin. */
export const SHELL_WORKER_FILE = 'field-sw.js';

/** What the build puts in the worker. */
export interface ShellManifest {
  /** Root-relative URLs to keep, e.g. `['/field.html', '/assets/field-1a2b.js']`; the first is the page. */
  readonly files: readonly string[];
  /** Changes with every build that changes a file (the cache is `crmkit-field-<version>`). */
  readonly version: string;
  /** Path prefixes never answered by the worker, e.g. `['/sync']` (the endpoint and its `/live`). */
  readonly network: readonly string[];
}

/** The parts of `ServiceWorkerGlobalScope` the shell uses (the DOM lib of this project has no worker types). */
export interface ShellWorkerScope {
  readonly location: { readonly origin: string };
  readonly caches: CacheStorage;
  readonly clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', listener: (event: { waitUntil(work: Promise<unknown>): void }) => void): void;
  addEventListener(type: 'fetch', listener: (event: ShellFetchEvent) => void): void;
}

interface ShellFetchEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}

const PREFIX = 'crmkit-field-';

/**
 * The cache key that answers `request`, or `undefined` when the worker must let it through to the network.
 * Navigations to a path without a file extension get the page (the server serves it at every such path).
 */
export function shellKey(request: { readonly method: string; readonly mode: string; readonly url: string }, origin: string, manifest: ShellManifest): string | undefined {
  if (request.method !== 'GET') return undefined;
  const url = new URL(request.url);
  if (url.origin !== origin) return undefined;
  if (manifest.network.some((prefix) => url.pathname === prefix || url.pathname.startsWith(`${prefix}/`))) return undefined;
  const key = request.mode === 'navigate' && !/\.[^/]*$/.test(url.pathname) ? manifest.files[0] : url.pathname;
  return key !== undefined && manifest.files.includes(key) ? key : undefined;
}

/** Installs the shell's listeners on the worker's global scope. */
export function fieldShell(scope: ShellWorkerScope, manifest: ShellManifest): void {
  const name = PREFIX + manifest.version;
  scope.addEventListener('install', (event) => {
    // `reload`: past the HTTP cache, so the page is this build's. Takes over at once: the old page keeps
    // the assets it loaded (the app has no lazy chunks), the next open gets the new build.
    event.waitUntil(scope.caches.open(name).then((cache) => cache.addAll(manifest.files.map((file) => new Request(file, { cache: 'reload' })))).then(() => scope.skipWaiting()));
  });
  scope.addEventListener('activate', (event) => {
    event.waitUntil(
      scope.caches
        .keys()
        .then((names) => Promise.all(names.filter((old) => old.startsWith(PREFIX) && old !== name).map((old) => scope.caches.delete(old))))
        .then(() => scope.clients.claim()),
    );
  });
  scope.addEventListener('fetch', (event) => {
    const key = shellKey(event.request, scope.location.origin, manifest);
    if (key === undefined) return;
    // A file missing from the cache (evicted storage) still comes from the network when there is one.
    event.respondWith(scope.caches.open(name).then((cache) => cache.match(key)).then((hit) => hit ?? fetch(event.request)));
  });
}
