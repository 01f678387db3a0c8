import type { TestProject } from 'vitest/node';
import { testPostgres } from '@crmkit/test-support/postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the test PostgreSQL server. */
    postgresUrl: string;
  }
}

/**
 * One PostgreSQL for the test run (see `testPostgres` in @crmkit/test-support): a throwaway cluster
 * from npm's binaries (else a system PostgreSQL), deleted at the end, or the server at
 * `CRMKIT_TEST_POSTGRES_URL`. Without any the run fails: the PostgreSQL tests are never skipped.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const postgres = await testPostgres();
  project.provide('postgresUrl', postgres.url);
  if (process.env.CRMKIT_TEST_VERBOSE) console.log(`sync tests on PostgreSQL: ${postgres.description}`);
  return () => postgres.release();
}
