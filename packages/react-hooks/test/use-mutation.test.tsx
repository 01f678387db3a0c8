import { isCrmError } from '@crmkit/core';
import { act, renderHook } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { useCrm, useMutation } from '@crmkit/react-hooks';
import { salesCrm, settled, wrapper } from './helpers.js';

describe('useMutation', () => {
  it('exposes pending, data and error; never rejects; reset goes back to idle', async () => {
    const { crm } = await salesCrm();
    const deal = await crm.deals.create({ title: 'Bare' });
    const { result } = renderHook(
      () => {
        const c = useCrm();
        return useMutation((id: string, toStage: string) => c.deals.advance(id, { toStage }));
      },
      { wrapper: wrapper(crm) },
    );
    expect(result.current).toMatchObject({ status: 'idle', pending: false, data: undefined, error: undefined });
    const first = result.current.mutate;

    let call!: Promise<unknown>;
    act(() => {
      call = result.current.mutate(deal.id, 'qualified');
    });
    expect(result.current).toMatchObject({ status: 'pending', pending: true });
    const failed = (await settled(() => call)) as { ok: boolean; error: Error };
    expect(failed.ok).toBe(false);
    expect(result.current.status).toBe('error');
    expect(isCrmError(result.current.error, 'RULE_VIOLATION')).toBe(true);
    expect(result.current.mutate).toBe(first); // stable for memoised children

    const ok = await settled(() => result.current.mutate(deal.id, 'proposal'));
    expect(ok).toMatchObject({ ok: true, data: { stageKey: 'proposal' } });
    expect(result.current).toMatchObject({ status: 'success', pending: false, error: undefined, data: { id: deal.id, stageKey: 'proposal' } });
    expect((await crm.deals.get(deal.id)).stageKey).toBe('proposal');

    act(() => result.current.reset());
    expect(result.current).toMatchObject({ status: 'idle', data: undefined });
  });

  it('only the latest call updates the state', async () => {
    const resolvers: ((v: string) => void)[] = [];
    const { result } = renderHook(() => useMutation((_n: number) => new Promise<string>((r) => resolvers.push(r))));
    let a!: Promise<unknown>, b!: Promise<unknown>;
    act(() => {
      a = result.current.mutate(1);
      b = result.current.mutate(2);
    });
    await act(async () => {
      resolvers[1]!('second');
      await b;
      resolvers[0]!('first');
      await a;
    });
    expect(result.current).toMatchObject({ status: 'success', data: 'second' });
  });
});
