/**
 * The benches' exit code policy, as every `pnpm bench` step of the repo: the figures and each budget's verdict
 * are printed, then one verdict line; a missed budget exits 1, so the root `pnpm bench` (a budget check) fails.
 * Figures move with the machine's load (printed beside them): on a busy machine rerun the one bench, with more
 * `--rounds`, before treating a miss as a regression.
 *
 * @param missed The budgets missed, as `name (figure vs budget)`.
 */
export function reportVerdict(missed: readonly string[]): void {
  if (!missed.length) {
    console.log('verdict: every budget met');
    return;
  }
  console.log(`verdict: budget MISSED — ${missed.join('; ')} (exit 1; rerun on a quieter machine or with more --rounds before calling it a regression)`);
  process.exitCode = 1;
}
