import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chromiumCacheRoot, findChromium, launchChromium } from '../src/chromium.js';

afterEach(() => vi.unstubAllEnvs());

/** Paths of the shared libraries mapped by every process running `executable` (browser, renderer, …). */
function mappedLibraries(executable: string): string[] {
  const libraries = new Set<string>();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(`${executable}\0`)) continue;
      for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
        const path = line.split(/\s+/)[5] ?? '';
        if (path.includes('.so')) libraries.add(path);
      }
    } catch {
      // the process ended meanwhile
    }
  }
  return [...libraries];
}

/** glibc and libgcc_s: what even a minimal Debian (or any glibc Linux) has. */
const BASE_SYSTEM = /^(ld-linux-x86-64|libc|libm|libdl|libpthread|librt|libresolv|libnss_[a-z]+|libgcc_s)\.so/;

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('the npm Chromium (@sparticuz/chromium)', () => {
  it('is found first without CRMKIT_CHROMIUM, unpacked in the cache with its libraries and fonts', async () => {
    vi.stubEnv('CRMKIT_CHROMIUM', '');
    vi.stubEnv('CRMKIT_NO_SYSTEM_FALLBACK', '1');
    const found = await findChromium();
    expect(found.source).toBe('npm');
    expect(found.executablePath.startsWith(chromiumCacheRoot())).toBe(true);
    expect(statSync(found.executablePath).mode & 0o111).not.toBe(0);
    const dir = join(found.executablePath, '..');
    expect(existsSync(join(dir, 'lib', 'libnss3.so'))).toBe(true);
    expect(readFileSync(found.env.FONTCONFIG_FILE!, 'utf8')).toContain(`<dir>${join(dir, 'fonts')}</dir>`);
    expect(found.env.LD_LIBRARY_PATH!.split(':')[0]).toBe(join(dir, 'lib'));
  });

  it('loads nothing from the system but glibc and libgcc_s (NSS comes from the bundle), and renders text with its bundled font', async () => {
    vi.stubEnv('CRMKIT_CHROMIUM', '');
    vi.stubEnv('CRMKIT_NO_SYSTEM_FALLBACK', '1');
    const { executablePath } = await findChromium();
    const browser = await launchChromium();
    try {
      // The npm package's major is the Chromium major (143.0.4 ships Chromium 143).
      const packageMajor = basename(join(executablePath, '..')).split('.')[0];
      expect(browser.version().split('.')[0]).toBe(packageMajor);
      const page = await browser.newPage();
      await page.setContent('<p id="p" style="font: 40px sans-serif">Deal €1,548 ×40</p>');
      const width = await page.locator('#p').evaluate((p) => {
        const range = document.createRange();
        range.selectNodeContents(p);
        return range.getBoundingClientRect().width;
      });
      expect(width).toBeGreaterThan(100); // glyphs were laid out: a font was found
      const libraries = mappedLibraries(executablePath);
      const bundleDir = join(executablePath, '..');
      expect(libraries.filter((path) => /\/libnss3\.so/.test(path))).toEqual([join(bundleDir, 'lib', 'libnss3.so')]);
      const fromSystem = libraries.filter((path) => !path.startsWith(bundleDir)).map((path) => path.split('/').pop()!);
      expect(fromSystem.length).toBeGreaterThan(0);
      expect(fromSystem.filter((name) => !BASE_SYSTEM.test(name))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('CRMKIT_CHROMIUM', () => {
  it('wins over the npm and system Chromium', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crmkit-chromium-'));
    try {
      const fake = join(dir, 'my-chrome');
      writeFileSync(fake, '');
      vi.stubEnv('CRMKIT_CHROMIUM', fake);
      expect(await findChromium()).toEqual({ executablePath: fake, source: 'CRMKIT_CHROMIUM', env: {} });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails clearly when it names a missing file, instead of falling back silently', async () => {
    vi.stubEnv('CRMKIT_CHROMIUM', '/nonexistent/chrome');
    await expect(findChromium()).rejects.toThrow('CRMKIT_CHROMIUM=/nonexistent/chrome does not exist');
  });
});
