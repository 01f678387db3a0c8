import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = `${resolve(dirname(fileURLToPath(import.meta.url.replace(/^[a-z]+:\/\/[^/]*\/@fs/, 'file://'))), '../../..')}/`;

/**
 * Every Markdown file whose TypeScript blocks the suite runs: README.md, docs/*.md and packages/*\/README.md.
 * @returns paths relative to the repository root, sorted
 * @example docFiles() // ['README.md', 'docs/access-control.md', …]
 */
export function docFiles(): string[] {
  const docs = readdirSync(`${root}docs`).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  const packages = readdirSync(`${root}packages`).map((p) => `packages/${p}/README.md`).filter((f) => {
    try {
      readFileSync(`${root}${f}`);
      return true;
    } catch {
      return false;
    }
  });
  return ['README.md', ...docs, ...packages].sort();
}

/** The text of a doc file, by its path relative to the repository root. */
export function readDoc(file: string): string {
  return readFileSync(`${root}${file}`, 'utf8');
}
