import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createBrotliDecompress } from 'node:zlib';
import { extract } from 'tar-fs';
import { materializeOnce } from './materialize-once.js';

/** The repository root (this file is internal/test-support/src/npm-chromium.ts). */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** An unpacked `@sparticuz/chromium`: the binary and the environment it needs. */
export interface NpmChromium {
  readonly executablePath: string;
  /** Version of the npm package (its major is the Chromium major). */
  readonly packageVersion: string;
  /** Variables to add to the browser's environment: bundled libraries and fonts. */
  readonly env: Readonly<Record<string, string>>;
}

/** Where unpacked Chromium versions live: `$XDG_CACHE_HOME/crmkit-chromium`, else `node_modules/.cache/crmkit-chromium` at the repository root. */
export function chromiumCacheRoot(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return xdg ? join(xdg, 'crmkit-chromium') : join(REPO_ROOT, 'node_modules', '.cache', 'crmkit-chromium');
}

/** The installed `@sparticuz/chromium` package directory, or undefined when it is not installed. */
function packageDir(): string | undefined {
  try {
    // The package exports only ".", which resolves into build/cjs/; the package root is two levels up.
    return resolve(dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium')), '..', '..');
  } catch {
    return undefined;
  }
}

async function inflateTo(source: string, target: string): Promise<void> {
  await pipeline(createReadStream(source), createBrotliDecompress(), createWriteStream(target, { mode: 0o755 }));
}

async function untarTo(source: string, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await pipeline(createReadStream(source), createBrotliDecompress(), extract(dir));
}

/** fontconfig reads only the bundled fonts: rendering is the same on every machine, with or without system fonts. */
function fontsConf(dir: string): string {
  return `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>${join(dir, 'fonts')}</dir>
  <cachedir>${join(dir, 'fonts-cache')}</cachedir>
</fontconfig>
`;
}

/**
 * Unpacks the headless Chromium of `@sparticuz/chromium` (a chrome-headless-shell build with the NSS
 * libraries a bare Debian lacks, SwiftShader and fonts) into the cache, once per package version and
 * atomically, so that concurrent test processes share one copy. Only linux-x64 is shipped.
 *
 * @returns The binary and its environment, or undefined when the package is not installed or the
 *   platform is not linux-x64.
 * @example
 * const npm = await unpackNpmChromium();
 * if (npm) await chromium.launch({ executablePath: npm.executablePath, env: { ...process.env, ...npm.env } });
 */
export async function unpackNpmChromium(): Promise<NpmChromium | undefined> {
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  const pkg = packageDir();
  if (!pkg || !existsSync(join(pkg, 'bin', 'chromium.br'))) return undefined;
  const packageVersion = (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string }).version;
  const target = join(chromiumCacheRoot(), packageVersion);
  const bin = join(pkg, 'bin');
  await materializeOnce(target, async (tmp) => {
    await Promise.all([
      inflateTo(join(bin, 'chromium.br'), join(tmp, 'chromium')),
      untarTo(join(bin, 'al2023.tar.br'), tmp), // lib/: libnss3, libnspr4, libexpat …
      untarTo(join(bin, 'swiftshader.tar.br'), tmp), // libEGL/libGLESv2 next to the binary, where Chromium looks
      untarTo(join(bin, 'fonts.tar.br'), join(tmp, 'fonts')),
    ]);
    // The fonts.conf of the package points at /tmp/fonts (AWS Lambda); ours points at the cache.
    writeFileSync(join(tmp, 'fonts.conf'), fontsConf(target));
  });
  const libraryPath = [join(target, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return {
    executablePath: join(target, 'chromium'),
    packageVersion,
    env: { LD_LIBRARY_PATH: libraryPath, FONTCONFIG_FILE: join(target, 'fonts.conf') },
  };
}
