import { describe, expect, it } from 'vitest';
import { shellKey, type ShellManifest } from '../src/field-shell-worker.js';

const ORIGIN = 'http://127.0.0.1:5180';
const manifest: ShellManifest = { files: ['/field.html', '/assets/field-1a.js', '/assets/styles-2b.css'], version: 'v1', network: ['/sync'] };
const key = (url: string, mode = 'cors', method = 'GET') => shellKey({ method, mode, url: new URL(url, ORIGIN).href }, ORIGIN, manifest);

describe('the field shell worker: what it answers from its cache', () => {
  it('navigations get the page; listed assets get themselves', () => {
    expect(key('/', 'navigate')).toBe('/field.html');
    expect(key('/deals/42?tab=notes', 'navigate')).toBe('/field.html');
    expect(key('/field.html', 'navigate')).toBe('/field.html');
    expect(key('/assets/field-1a.js')).toBe('/assets/field-1a.js');
    expect(key('/assets/styles-2b.css', 'no-cors')).toBe('/assets/styles-2b.css');
  });

  it('the sync endpoint and its live signal always go to the network, navigations included', () => {
    for (const path of ['/sync', '/sync/push', '/sync/pull', '/sync/live', '/sync/poll?after=3']) {
      expect(key(path)).toBeUndefined();
      expect(key(path, 'navigate')).toBeUndefined();
      expect(key(path, 'cors', 'POST')).toBeUndefined();
    }
    expect(key('/syncing', 'navigate')).toBe('/field.html'); // a prefix is a path segment, not a string prefix
  });

  it('files it does not list, other methods and other origins go to the network', () => {
    expect(key('/index.html', 'navigate')).toBeUndefined(); // the other page of the build
    expect(key('/assets/main-3c.js')).toBeUndefined();
    expect(key('/assets/field-1a.js', 'cors', 'HEAD')).toBeUndefined();
    expect(shellKey({ method: 'GET', mode: 'cors', url: 'https://cdn.example/assets/field-1a.js' }, ORIGIN, manifest)).toBeUndefined();
    expect(shellKey({ method: 'GET', mode: 'navigate', url: 'https://elsewhere.example/' }, ORIGIN, manifest)).toBeUndefined();
  });
});
