import { existsSync } from 'node:fs';
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';
import { unpackNpmChromium } from './npm-chromium.js';
import { systemFallbackAllowed } from './system-fallback.js';

export { chromiumCacheRoot } from './npm-chromium.js';

/** Where the Chromium of a test run comes from. */
export type ChromiumSource = 'CRMKIT_CHROMIUM' | 'npm' | 'system';

/** A Chromium binary the tests can launch. */
export interface ChromiumBinary {
  readonly executablePath: string;
  readonly source: ChromiumSource;
  /** Variables the binary needs in its environment (bundled libraries and fonts for the npm build). */
  readonly env: Readonly<Record<string, string>>;
}

/** System Chromium builds, looked for last. */
export const SYSTEM_CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** Flags for a quiet, deterministic headless run (no sandbox: the tests may run as root in a container). */
export const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

/**
 * Finds the Chromium to test with, in this order: `CRMKIT_CHROMIUM` (a path), the headless Chromium
 * of the `@sparticuz/chromium` npm package (unpacked once into the cache), a system Chromium
 * (skipped when `CRMKIT_NO_SYSTEM_FALLBACK=1`).
 *
 * @returns The binary, its source and the environment it needs.
 * @throws Error listing what was tried when none is there.
 * @example
 * const { executablePath, env } = await findChromium();
 */
export async function findChromium(): Promise<ChromiumBinary> {
  const fromEnv = process.env.CRMKIT_CHROMIUM;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CRMKIT_CHROMIUM=${fromEnv} does not exist`);
    return { executablePath: fromEnv, source: 'CRMKIT_CHROMIUM', env: {} };
  }
  const npm = await unpackNpmChromium();
  if (npm) return { executablePath: npm.executablePath, source: 'npm', env: npm.env };
  if (systemFallbackAllowed()) {
    const system = SYSTEM_CHROMIUM_PATHS.find((path) => existsSync(path));
    if (system) return { executablePath: system, source: 'system', env: {} };
  }
  throw new Error(
    'No Chromium for the browser tests: `pnpm install` installs one from npm (@sparticuz/chromium, linux-x64 only); ' +
      `elsewhere set CRMKIT_CHROMIUM to a Chromium or Chrome binary${systemFallbackAllowed() ? ` (looked in ${SYSTEM_CHROMIUM_PATHS.join(', ')})` : ' (system fallback disabled by CRMKIT_NO_SYSTEM_FALLBACK)'}`,
  );
}

/**
 * Starts headless Chromium through playwright-core, with {@link findChromium}'s binary and {@link LAUNCH_ARGS}.
 *
 * @param options Extra playwright launch options (`args` are appended to {@link LAUNCH_ARGS}).
 * @returns The browser; close it when done.
 * @example
 * const browser = await launchChromium();
 * try { const page = await browser.newPage(); … } finally { await browser.close(); }
 */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  const binary = await findChromium();
  return chromium.launch({
    ...options,
    executablePath: binary.executablePath,
    args: [...LAUNCH_ARGS, ...(options.args ?? [])],
    env: { ...(process.env as Record<string, string>), ...binary.env, ...options.env },
  });
}
