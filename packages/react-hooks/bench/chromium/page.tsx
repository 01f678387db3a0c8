// The page of the Chromium board benchmark: `createRoot` comes from react-dom's profiling build (the
// bundle maps react-dom/client to it), so <Profiler> timings exist in the production build.
import { createRoot } from 'react-dom/client';
import type { BoardBenchResult } from '../bench-report.js';
import { runBoardBench } from '../board-bench.js';

declare global {
  interface Window {
    runBoardBench?: (cards: number, updates: number) => Promise<BoardBenchResult>;
  }
}

window.runBoardBench = (cards, updates) => runBoardBench({ cards, updates, createRoot, container: document.getElementById('root')! });
