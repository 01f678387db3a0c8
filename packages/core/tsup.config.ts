import { mkdirSync, writeFileSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

// Every source file becomes its own module (no bundling) so that app bundlers tree-shake by module
// (`sideEffects: false`): importing `where` costs `where`, not the zod schemas of every record.
// ESM goes to dist/esm; CJS to dist/cjs, marked CommonJS by its own package.json. All entry points
// (root, features, storage, testing) share one module graph per format, so there is one copy of core.
// Declarations come from tsc (`build:types`), copied into both trees.
const shared: Options = {
  entry: ['src/**/*.ts'],
  bundle: false,
  tsconfig: 'tsconfig.build.json',
  target: 'es2022',
  sourcemap: false,
  dts: false,
  silent: true,
};

export default defineConfig([
  { ...shared, format: ['esm'], outDir: 'dist/esm', clean: true },
  {
    ...shared,
    format: ['cjs'],
    outDir: 'dist/cjs',
    clean: true,
    outExtension: () => ({ js: '.js' }),
    async onSuccess() {
      mkdirSync('dist/cjs', { recursive: true });
      writeFileSync('dist/cjs/package.json', `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
    },
  },
]);
