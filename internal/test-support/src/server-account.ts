import { chmodSync, cpSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { materializeOnce } from './materialize-once.js';

/** The OS account a server runs as when the tests run as root. */
export interface ServerAccount {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/**
 * The unprivileged account to run PostgreSQL as, or undefined when the tests do not run as root
 * (PostgreSQL refuses to run as root). Default `nobody`, present on every Linux and macOS and owning
 * no files, so nothing has to be created first; `CRMKIT_PG_USER` names another account. The account
 * needs a passwd entry because `initdb` looks its own user up.
 *
 * @throws Error when the account does not exist.
 */
export function serverAccount(): ServerAccount | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const name = process.env.CRMKIT_PG_USER || 'nobody';
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // no /etc/passwd: reported below
  }
  const entry = passwd
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === name);
  if (!entry) throw new Error(`The tests run as root and PostgreSQL must not; the account "${name}" to run it as was not found in /etc/passwd (set CRMKIT_PG_USER)`);
  return { name, uid: Number(entry[2]), gid: Number(entry[3]) };
}

/** True when other users can traverse every directory from `/` to `path`, and read (and execute) `path`. */
function openToOthers(path: string): boolean {
  const { root } = parse(path);
  for (let p = path; ; p = dirname(p)) {
    if ((statSync(p).mode & 0o005) !== 0o005) return false;
    if (p === root) return true;
  }
}

/**
 * Where to put what the server account must reach (its data directory, a copy of the binaries):
 * the temp directory, unless `TMPDIR` is private (e.g. made by `mktemp -d`), then `/tmp`.
 *
 * @throws Error when neither can be reached by other users.
 */
export function sharedTmpdir(account: ServerAccount | undefined): string {
  if (!account) return tmpdir();
  for (const dir of [tmpdir(), '/tmp']) if (openToOthers(dir)) return dir;
  throw new Error(`PostgreSQL runs as ${account.name}, which cannot reach ${tmpdir()} or /tmp; point TMPDIR at a directory other users can traverse`);
}

/**
 * Makes the PostgreSQL installation holding `bin` usable by `account`: as is when other users can reach
 * it, else copied once (atomically) to `<shared tmp>/crmkit-postgres-<id>-<uid>` — a checkout under a
 * private home directory (mode 700) cannot be read by `nobody`.
 *
 * @param bin The `bin` directory; its parent holds `lib` and `share`, which are copied with it.
 * @param id A name for the copy that changes when the binaries change (the npm package id).
 * @returns The `bin` directory to use.
 */
export async function binariesReachableBy(bin: string, account: ServerAccount | undefined, id: string): Promise<string> {
  if (!account || openToOthers(join(bin, 'postgres'))) return bin;
  const target = join(sharedTmpdir(account), `crmkit-postgres-${id.replace(/[^a-zA-Z0-9.-]+/g, '_')}-${process.getuid?.() ?? 0}`);
  await materializeOnce(target, async (tmp) => {
    cpSync(dirname(bin), tmp, { recursive: true, verbatimSymlinks: true });
    chmodSync(tmp, 0o755);
  });
  // Someone else could have made the directory first: run nothing from it unless it is ours, shut to writers.
  const stat = statSync(target);
  if (stat.uid !== process.getuid?.() || (stat.mode & 0o022) !== 0) throw new Error(`${target} is not owned by this user or is writable by others; remove it`);
  return join(target, 'bin');
}
