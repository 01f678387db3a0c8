import type { TestProject } from 'vitest/node';
import { startPostgresServer } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the test PostgreSQL server, or '' when PostgreSQL tests are skipped. */
    postgresUrl: string;
  }
}

/**
 * Starts one throwaway PostgreSQL cluster for the test run and stops it (deleting its files) at the end.
 * `CRMKIT_TEST_POSTGRES_URL` uses an existing server instead; `CRMKIT_SKIP_POSTGRES=1` skips the
 * PostgreSQL tests (they are required in CI).
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.CRMKIT_TEST_POSTGRES_URL) {
    project.provide('postgresUrl', process.env.CRMKIT_TEST_POSTGRES_URL);
    return undefined;
  }
  if (process.env.CRMKIT_SKIP_POSTGRES === '1') {
    project.provide('postgresUrl', '');
    return undefined;
  }
  const server = await startPostgresServer();
  project.provide('postgresUrl', server.url);
  return () => server.stop();
}
