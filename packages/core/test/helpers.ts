import { expect } from 'vitest';
import { isCrmError, type CrmErrorCode, type CrmError } from '@crmkit/core';
import { createTestCrm, type CreateTestCrmOptions, type TestCrm } from '@crmkit/core/testing';

/** Awaits a promise expected to fail with a CrmError of `code`, and returns the error. */
export async function expectCrmError<C extends CrmErrorCode>(promise: Promise<unknown>, code: C): Promise<CrmError<C>> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  if (!isCrmError(error, code)) throw new Error(`expected CrmError ${code}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  return error;
}

/** Paths of the issues of a VALIDATION error, as dotted strings. */
export function issuePaths(error: CrmError<'VALIDATION'>): string[] {
  return error.details.issues.map((i) => i.path.join('.'));
}

/** A test CRM with a two-stage sales pipeline. */
export async function crmWithPipeline(options: Omit<CreateTestCrmOptions, 'features'> = {}): Promise<TestCrm & { pipelineId: string }> {
  const t = await createTestCrm(options);
  const pipeline = await t.crm.pipelines.create({
    name: 'Sales',
    stages: [
      { key: 'new', name: 'New', probability: 10 },
      { key: 'proposal', name: 'Proposal', probability: 60 },
    ],
  });
  return { ...t, pipelineId: pipeline.id };
}

/** Expects the memory storage to be unchanged since `before`. */
export function expectUnchanged(t: TestCrm, before: ReturnType<TestCrm['storage']['snapshot']>): void {
  expect(t.storage.snapshot()).toEqual(before);
}
