import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { materializeOnce } from '../src/materialize-once.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./fixtures/materialize-child.ts', import.meta.url));
let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('materializeOnce', () => {
  it('gives every one of several racing processes the same complete directory, and leaves no temp copies', async () => {
    root = mkdtempSync(join(tmpdir(), 'crmkit-once-'));
    const target = join(root, 'cache', 'v1');
    const racers = ['a', 'b', 'c', 'd'];
    const outputs = await Promise.all(racers.map((marker) => run(process.execPath, ['--import', 'tsx', CHILD, target, marker, join(root, 'barrier'), String(racers.length)], { encoding: 'utf8' })));
    const expected = Array.from({ length: 20 }, (_, i) => `part-${i}`).sort();
    for (const { stdout } of outputs) expect(JSON.parse(stdout)).toEqual(expected);
    // One winner wrote every file: no mix of two copies.
    const markers = new Set(expected.map((name) => readFileSync(join(target, name), 'utf8').split(':')[0]));
    expect(markers.size).toBe(1);
    expect(readdirSync(join(root, 'barrier'))).toHaveLength(racers.length); // all four filled a copy at once
    expect(readdirSync(join(root, 'cache'))).toEqual(['v1']);
  });

  it('leaves nothing behind when filling fails, and fills again next time', async () => {
    root = mkdtempSync(join(tmpdir(), 'crmkit-once-'));
    const target = join(root, 'v1');
    await expect(materializeOnce(target, async () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
    expect(readdirSync(root)).toEqual([]);
    let fills = 0;
    await materializeOnce(target, async () => void fills++);
    await materializeOnce(target, async () => void fills++);
    expect(fills).toBe(1);
    expect(existsSync(target)).toBe(true);
  });

  it('removes temp copies of processes that died while filling', async () => {
    root = mkdtempSync(join(tmpdir(), 'crmkit-once-'));
    mkdirSync(join(root, 'v1.tmp-999999999-abc')); // no such process
    mkdirSync(join(root, `v1.tmp-${process.ppid}-def`)); // a live process: kept
    await materializeOnce(join(root, 'v1'), async () => undefined);
    expect(readdirSync(root).sort()).toEqual(['v1', `v1.tmp-${process.ppid}-def`]);
  });
});
