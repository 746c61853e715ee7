/**
 * The core must run unchanged in a browser (STYLE 1): nothing under src/core may import Node
 * built-ins or server libraries. eslint refuses such imports too; this test reads the files the
 * way an auditor would, so the guarantee does not hang on lint configuration alone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CORE = fileURLToPath(new URL('../../src/core/', import.meta.url));
const FORBIDDEN = /^(node:|fs$|fs\/|path$|crypto$|os$|http$|https$|child_process$|worker_threads$|express|kysely|better-sqlite3|pg$|undici|pino)/;
// Packages the core may use: pure JavaScript that runs in any engine.
const ALLOWED_PACKAGES = ['@noble/ed25519', '@noble/hashes/sha2.js', '@scure/base'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? tsFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

function importsOf(source: string): string[] {
  const specs: string[] = [];
  for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)) specs.push(m[1] as string);
  for (const m of source.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1] as string);
  for (const m of source.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1] as string);
  return specs;
}

describe('src/core', () => {
  const files = tsFiles(CORE);

  it('has modules to check', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it('imports no Node built-in, fs, express, kysely or other server library', () => {
    const offending = files.flatMap((f) =>
      importsOf(readFileSync(f, 'utf8'))
        .filter((s) => FORBIDDEN.test(s))
        .map((s) => `${relative(CORE, f)}: ${s}`),
    );
    expect(offending).toEqual([]);
  });

  it('imports only relative modules and the pure-JS packages it is allowed', () => {
    const packages = new Set(files.flatMap((f) => importsOf(readFileSync(f, 'utf8')).filter((s) => !s.startsWith('.'))));
    expect([...packages].filter((p) => !ALLOWED_PACKAGES.includes(p))).toEqual([]);
  });
});
