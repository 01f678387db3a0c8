import type { TestProject } from 'vitest/node';
import { startPostgresServer } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the test PostgreSQL server. */
    postgresUrl: string;
  }
}

/**
 * Starts one throwaway PostgreSQL cluster for the test run and stops it (deleting its files) at the end.
 * `CRMKIT_TEST_POSTGRES_URL` uses an existing server instead. Without PostgreSQL binaries the run
 * fails: the PostgreSQL tests are part of every run, never skipped.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.CRMKIT_TEST_POSTGRES_URL) {
    project.provide('postgresUrl', process.env.CRMKIT_TEST_POSTGRES_URL);
    return undefined;
  }
  const server = await startPostgresServer();
  project.provide('postgresUrl', server.url);
  return () => server.stop();
}
