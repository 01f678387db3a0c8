import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** True when a process with this id exists (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `<target>.tmp-<pid>-*` directories left by processes that died while filling them. */
function sweepAbandoned(target: string): void {
  const prefix = `${basename(target)}.tmp-`;
  for (const name of readdirSync(dirname(target))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !alive(pid)) rmSync(join(dirname(target), name), { recursive: true, force: true });
  }
}

/**
 * Makes the directory `target` exist with what `fill` writes, once and atomically: `fill` writes into a
 * fresh sibling directory, which is then renamed to `target`. A directory at `target` is therefore always
 * complete, and when several processes start at once, one rename wins and the others drop their copy.
 *
 * @param target Absolute path of the directory to create (its parent is created if missing).
 * @param fill Writes the content into the directory it is given.
 * @returns `target`.
 * @example
 * const dir = await materializeOnce('/cache/chromium/143.0.4', (tmp) => unpack(tmp));
 */
export async function materializeOnce(target: string, fill: (dir: string) => Promise<void>): Promise<string> {
  if (existsSync(target)) return target;
  mkdirSync(dirname(target), { recursive: true });
  sweepAbandoned(target);
  const tmp = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  mkdirSync(tmp, { mode: 0o755 });
  try {
    await fill(tmp);
    try {
      renameSync(tmp, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Another process renamed its complete copy first: use that one.
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !existsSync(target)) throw error;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  return target;
}
