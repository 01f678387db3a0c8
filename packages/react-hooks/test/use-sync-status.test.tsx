import { act, render, renderHook } from '@testing-library/react';
import { memo } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { useSyncStatus, type SyncStatusSource } from '@crmkit/react-hooks';

interface Status {
  readonly state: 'idle' | 'offline';
  readonly pending: number;
}

/** A sync client's status store (the shape of `@crmkit/sync`'s `SyncClient`), as a class: its methods need `this`. */
class FakeClient implements SyncStatusSource<Status> {
  private snapshot: Status = { state: 'idle', pending: 0 };
  readonly listeners = new Set<() => void>();
  subscriptions = 0;
  status(): Status {
    return this.snapshot;
  }
  subscribe(listener: () => void): () => void {
    this.subscriptions++;
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(change: Partial<Status>): void {
    this.snapshot = Object.freeze({ ...this.snapshot, ...change });
    for (const listener of [...this.listeners]) listener();
  }
  /** A change notice without a new snapshot (nothing the UI shows changed). */
  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

describe('useSyncStatus', () => {
  it('returns the client\'s snapshot, the same object until it changes; re-renders on a new one', () => {
    const client = new FakeClient();
    let renders = 0;
    const { result } = renderHook(() => {
      renders++;
      return useSyncStatus(client);
    });
    const first = result.current;
    expect(first).toEqual({ state: 'idle', pending: 0 });
    const before = renders;
    act(() => client.notify());
    expect(result.current).toBe(first);
    expect(renders).toBe(before); // an unchanged snapshot renders nothing
    act(() => client.set({ state: 'offline', pending: 2 }));
    expect(result.current).toEqual({ state: 'offline', pending: 2 });
    expect(renders).toBe(before + 1);
  });

  it('memoised children given the status re-render only when it changed; one subscription, none after unmount', () => {
    const client = new FakeClient();
    let childRenders = 0;
    const Badge = memo(function Badge({ status }: { status: Status }) {
      childRenders++;
      return <span>{status.state}:{status.pending}</span>;
    });
    function Bar({ label }: { label: string }) {
      const status = useSyncStatus(client);
      return <p>{label}<Badge status={status} /></p>;
    }
    const view = render(<Bar label="a" />);
    view.rerender(<Bar label="b" />);
    expect(childRenders).toBe(1);
    act(() => client.set({ pending: 1 }));
    expect(view.container.textContent).toBe('bidle:1');
    expect(childRenders).toBe(2);
    expect(client.subscriptions).toBe(1);
    view.unmount();
    expect(client.listeners.size).toBe(0);
  });

  it('renders the current snapshot on the server', () => {
    const client = new FakeClient();
    client.set({ state: 'offline', pending: 3 });
    function Bar() {
      const { state, pending } = useSyncStatus(client);
      return <p>{state} {pending}</p>;
    }
    expect(renderToString(<Bar />)).toBe('<p>offline<!-- --> <!-- -->3</p>');
  });
});
