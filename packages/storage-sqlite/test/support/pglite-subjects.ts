import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { materializeOnce } from '@crmkit/test-support/materialize-once';

/** The installed PGlite version (the template below is only valid for it). */
function pgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite'); // <package>/dist/index.cjs
  return (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * A dump (tar) of a freshly initialised PGlite database: made once per PGlite version and kept in the
 * temp directory. A fresh `PGlite.create()` runs initdb in WebAssembly (8–20 s on a busy 2-core
 * machine, more in a browser); loading this dump takes about one second.
 *
 * @returns The path of the tar file.
 */
export async function pgliteTemplate(): Promise<string> {
  const dir = join(tmpdir(), `crmkit-pglite-template-${pgliteVersion()}-${process.getuid?.() ?? 0}`);
  await materializeOnce(dir, async (tmp) => {
    const fresh = await PGlite.create();
    try {
      writeFileSync(join(tmp, 'datadir.tar'), Buffer.from(await (await fresh.dumpDataDir('none')).arrayBuffer()));
    } finally {
      await fresh.close();
    }
  });
  return join(dir, 'datadir.tar');
}

/** A new in-memory PGlite database for tests, loaded from {@link pgliteTemplate}. */
export async function createTestPglite(): Promise<PGlite> {
  return PGlite.create({ loadDataDir: new Blob([readFileSync(await pgliteTemplate())]) });
}

/** One PGlite database shared by the tests of a file, a fresh schema per test (as on the PostgreSQL server). */
export interface PgliteTestBed {
  readonly pglite: PGlite;
  schemaName(prefix?: string): string;
  dropSchema(name: string): Promise<void>;
  end(): Promise<void>;
}

export async function createPgliteTestBed(): Promise<PgliteTestBed> {
  const pglite = await createTestPglite();
  let n = 0;
  return {
    pglite,
    schemaName: (prefix = 't') => `${prefix}_${++n}`,
    async dropSchema(name) {
      await pglite.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    },
    end: () => pglite.close(),
  };
}
