import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { staleReason } from '../build-state.ts';

const root = mkdtempSync(join(tmpdir(), 'magasin-web-build-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

describe('the built web app', () => {
  const distDir = join(root, 'dist');
  const src = join(root, 'src');
  mkdirSync(join(src, 'pages'), { recursive: true });
  const page = join(src, 'pages', 'cart.tsx');
  writeFileSync(page, 'export {}');
  const layout = { distDir, sources: [src] };

  it('is stale when it was never built', () => {
    expect(staleReason(layout)).toMatch(/index\.html is missing/);
  });

  it('is up to date when built after every source, stale once a nested source changes', () => {
    mkdirSync(distDir, { recursive: true });
    writeFileSync(join(distDir, 'index.html'), '<!doctype html>');
    at(page, 1_000);
    at(join(distDir, 'index.html'), 2_000);
    expect(staleReason(layout)).toBeUndefined();
    at(page, 3_000);
    expect(staleReason(layout)).toBe(`${page} changed since the last build`);
  });
});
