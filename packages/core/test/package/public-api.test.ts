import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// What each entry point of @crmkit/core exports, read with the TypeScript checker from the sources
// (the entry points as package.json maps them), so an internal that leaks into a public entry fails here.
const pkg = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(`${pkg}package.json`, 'utf8')) as { exports: Record<string, { import?: { default: string } } | string> };
const entries = Object.entries(manifest.exports)
  .filter(([, target]) => typeof target !== 'string')
  .map(([name, target]) => [name, (target as { import: { default: string } }).import.default.replace('./dist/esm/', 'src/').replace(/\.js$/, '.ts')] as const);

const program = ts.createProgram(
  entries.map(([, file]) => pkg + file),
  { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, skipLibCheck: true, noEmit: true },
);
const checker = program.getTypeChecker();

/** The exported names of an entry point, each with whether its declaration is tagged `@internal`. */
function exportsOf(file: string): { name: string; internal: boolean }[] {
  const source = program.getSourceFile(pkg + file);
  if (!source) throw new Error(`no source ${file}`);
  return checker.getExportsOfModule(checker.getSymbolAtLocation(source)!).map((symbol) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    return { name: symbol.name, internal: target.getJsDocTags().some((t) => t.name === 'internal') };
  });
}

// Adapter plumbing lives in @crmkit/core/storage (for adapter authors); matching helpers stay inside their feature.
const ADAPTER_GUARDS = /^(assertAdapterOpen|assertRowTenant|assertSequenceArgs|assertStorableRow|assertStorableQuery|checkWriteVersion|deliverChangeBatch|checkRuntimeIndexes)$/;
const SIMILARITY = /similar|jaro|levenshtein|trigram|normali[sz]e(Email|Phone|Domain|Name|CompanyName)/i;

describe('the public API of @crmkit/core', () => {
  it('reads every entry point of package.json', () => {
    expect(entries.map(([name]) => name)).toEqual(expect.arrayContaining(['.', './storage', './testing', './describe']));
    for (const [name, file] of entries) expect(exportsOf(file).length, name).toBeGreaterThan(0);
  });

  it.each(entries)('%s exports nothing tagged @internal', (_, file) => {
    expect(exportsOf(file).filter((e) => e.internal).map((e) => e.name)).toEqual([]);
  });

  it('the root export has no adapter guards and no similarity helpers; the guards are in ./storage only', () => {
    const root = exportsOf('src/index.ts').map((e) => e.name);
    expect(root.filter((n) => ADAPTER_GUARDS.test(n) || SIMILARITY.test(n))).toEqual([]);
    for (const [name, file] of entries) {
      if (name === './storage') continue;
      expect(exportsOf(file).map((e) => e.name).filter((n) => ADAPTER_GUARDS.test(n) || SIMILARITY.test(n)), name).toEqual([]);
    }
    expect(exportsOf('src/storage/index.ts').map((e) => e.name)).toEqual(expect.arrayContaining(['assertAdapterOpen', 'deliverChangeBatch']));
  });
});
