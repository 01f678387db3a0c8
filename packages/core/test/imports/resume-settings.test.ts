import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { csvSource } from '@crmkit/core/csv';

it('resume refuses another locale or mapping than the job started with, and goes on with the same (review 16f minor)', async () => {
  const { crm } = await createTestCrm();
  const rows = ['1,5', '2,5', '3,5', '4,5'].map((n, i) => ({ N: `C${i}`, E: `c${i}@x.org`, R: n }));
  await crm.customFields.define({ entity: 'contact', key: 'rev', label: 'R', type: 'number' });
  const mapping = { name: 'N', email: 'E', 'custom.rev': { column: 'R', as: 'number' as const } };
  let jobId = '';
  const stop = (_rows: unknown, progress: { jobId?: string }) => {
    jobId = progress.jobId!;
    throw new Error('the process died');
  };
  await expect(crm.import.run({ entity: 'contact', rows, mapping, locale: 'de-DE', chunkSize: 2, onChunk: stop })).rejects.toThrow('the process died');
  for (const [locale, m] of [['en-US', mapping], ['de-DE', { ...mapping, 'custom.rev': { column: 'R', as: 'text' as const } }], ['de-DE', { name: 'N', email: 'E' }]] as const) {
    await expect(crm.import.resume(jobId, { entity: 'contact', rows, mapping: m, locale, chunkSize: 2 }), locale).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['jobId'], code: 'invalid_value' }] } });
  }
  expect((await crm.contacts.list()).items).toHaveLength(2);
  const resumed = await crm.import.resume(jobId, { entity: 'contact', rows, mapping, locale: 'de-DE', chunkSize: 2 });
  expect(resumed.rows.map((r) => r.outcome)).toEqual(['created', 'created']);
  expect((await crm.contacts.list({ orderBy: [{ field: 'email', direction: 'asc' }] })).items.map((c) => c.custom?.rev)).toEqual([1.5, 2.5, 3.5, 4.5]);
});

it('resume refuses other duplicate handling or another kind of source than the job started with (review 16g #7)', async () => {
  const { crm } = await createTestCrm();
  const existing = await crm.contacts.create({ name: 'Existing Person', email: 'e@x.org' });
  const rows = Array.from({ length: 6 }, (_, i) => (i === 4 ? { name: 'Existing Person', email: 'e@x.org' } : { name: `Customer ${i}`, email: `c${i}@x.org` }));
  let jobId = '';
  const stop = (_rows: unknown, progress: { jobId?: string; chunks: number }) => {
    jobId = progress.jobId!;
    if (progress.chunks === 1) throw new Error('the process died');
  };
  const started = { entity: 'contact' as const, chunkSize: 2, duplicates: { action: 'skip' as const } };
  await expect(crm.import.run({ ...started, rows, onChunk: stop })).rejects.toThrow('the process died');
  const csv = csvSource(['name,email', ...rows.map((r) => `${r.name},${r.email}`)].join('\n'));
  for (const [label, other] of [
    ['no duplicates', { entity: 'contact', chunkSize: 2, rows }],
    ['another action', { ...started, duplicates: { action: 'flag' }, rows }],
    ['another minScore', { ...started, duplicates: { action: 'skip', minScore: 0.5 }, rows }],
    ['a CSV file for rows', { ...started, csv }],
  ] as const) {
    await expect(crm.import.resume(jobId, other), label).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['jobId'], code: 'invalid_value' }] } });
  }
  expect((await crm.contacts.list()).items).toHaveLength(3);
  // The default minScore spelled out is the same setting.
  const resumed = await crm.import.resume(jobId, { ...started, duplicates: { action: 'skip', minScore: 0.8 }, rows });
  expect(resumed.rows.map((r) => r.outcome)).toEqual(['created', 'created', 'skipped', 'created']);
  expect((await crm.contacts.list()).items.filter((c) => c.email === 'e@x.org').map((c) => c.id)).toEqual([existing.id]);
});

it('a resume\'s errors name import.resume, the call made: a completed job, other settings, bad options (review16j #8)', async () => {
  const { crm } = await createTestCrm();
  const done = await crm.import.run({ entity: 'contact', rows: [{ name: 'Ada' }] });
  const messages = await Promise.all([
    crm.import.resume(done.jobId!, { entity: 'contact', rows: [{ name: 'Ada' }] }),
    crm.import.resume(done.jobId!, { entity: 'contact', rows: [{ name: 'Ada' }], chunkSize: 0 }),
    crm.import.resume(done.jobId!, { entity: 'contact', rows: [{ name: 'Ada' }], nope: 1 } as never),
    crm.import.resume('bad id!', { entity: 'contact', rows: [] }),
  ].map((p) => p.then(() => 'resolved', (e: Error) => e.message)));
  expect(messages).toEqual([
    expect.stringMatching(/^Invalid input to import\.resume: jobId: import job \S+ is completed/),
    expect.stringMatching(/^Invalid input to import\.resume: chunkSize:/),
    expect.stringMatching(/^Invalid input to import\.resume: nope: unknown option/),
    expect.stringMatching(/^Invalid input to import\.resume: jobId/),
  ]);
  // A run's own errors still name import.run.
  await expect(crm.import.run({ entity: 'contact', rows: [], chunkSize: 0 })).rejects.toThrow(/^Invalid input to import\.run: chunkSize/);
});
