/**
 * The Vite plugin that builds field mode's service worker (`src/field-shell-worker.ts`) into `/field-sw.js`
 * with the list of files the field page needs and a version. No Workbox: the shell is one page and its
 * hashed assets, which a few lines of Cache API cover; this plugin only adds what a build knows.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transformWithOxc, type Plugin, type Rolldown } from 'vite';
import { SHELL_WORKER_FILE, type ShellManifest } from '../src/field-shell-worker.js';

const SOURCE = fileURLToPath(new URL('../src/field-shell-worker.ts', import.meta.url));

/** Options of {@link fieldShellWorker}. */
export interface FieldShellWorkerOptions {
  /** The page to keep, as emitted (e.g. `field.html`). */
  readonly page: string;
  /** Path prefixes the worker never answers (the sync endpoint, e.g. `/sync`). */
  readonly network: readonly string[];
}

/**
 * The files `page` loads: what its HTML references, then each chunk's static and dynamic imports and the
 * CSS and assets Vite attached to it. Root-relative URLs, the page first.
 */
export function pageFiles(bundle: Rolldown.OutputBundle, page: string): string[] {
  const html = bundle[page];
  if (html?.type !== 'asset') throw new Error(`the bundle has no page ${page}`);
  const found = new Set<string>();
  const visit = (file: string): void => {
    if (found.has(file) || !(file in bundle)) return;
    found.add(file);
    const output = bundle[file]!;
    if (output.type !== 'chunk') return;
    for (const next of [...output.imports, ...output.dynamicImports, ...(output.viteMetadata?.importedCss ?? []), ...(output.viteMetadata?.importedAssets ?? [])]) visit(next);
  };
  for (const [, url] of String(html.source).matchAll(/\s(?:src|href)="\/([^"?#]+)"/g)) visit(url!);
  return [page, ...[...found].sort()].map((file) => `/${file}`);
}

/** Emits `field-sw.js`: the shell's code, the page's files and a version hashed from both (build only). */
export function fieldShellWorker(options: FieldShellWorkerOptions): Plugin {
  return {
    name: 'crmkit:field-shell-worker',
    apply: 'build',
    generateBundle: {
      order: 'post', // after Vite's HTML plugin has emitted the page
      async handler(_, bundle) {
        const files = pageFiles(bundle, options.page);
        const code = (await transformWithOxc(await readFile(SOURCE, 'utf8'), SOURCE, { lang: 'ts' })).code.replace(/^export /gm, '');
        const hash = createHash('sha256').update(code);
        for (const file of files) {
          const output = bundle[file.slice(1)]!;
          hash.update(file).update(output.type === 'chunk' ? output.code : output.source);
        }
        const manifest: ShellManifest = { files, version: hash.digest('hex').slice(0, 16), network: options.network };
        this.emitFile({ type: 'asset', fileName: SHELL_WORKER_FILE, source: `(() => {\n${code}\nfieldShell(self, ${JSON.stringify(manifest)});\n})();\n` });
      },
    },
  };
}
