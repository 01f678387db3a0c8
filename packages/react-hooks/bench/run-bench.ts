/**
 * Launcher of `pnpm bench`: selects React's build before anything imports React (production
 * profiling build by default, `--dev` for the development build), then runs the board benchmark.
 */
process.env.NODE_ENV = process.argv.includes('--dev') ? 'development' : 'production';
await import('./board-render.bench.js');

export {};
