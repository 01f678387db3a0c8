import { inspect } from 'node:util';
import ts from 'typescript';
import type { DocBlock } from './doc-blocks.js';

/** The modules a doc's imports resolve to, by specifier. An import not in the map fails the run. */
export type ModuleMap = Record<string, Record<string, unknown>>;

/** What one block printed while it (and anything it started) ran. */
export interface BlockRun {
  block: DocBlock;
  /** The printed lines, as Node prints them (strings as is, other values with util.inspect on one line). */
  output: string;
  /** Each `console.log` call's arguments as JSON values: one argument as itself, several as an array. */
  logs: unknown[];
}

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...args: unknown[]) => Promise<void>;

/** Strips the types of one block (JSX to react/jsx-runtime calls) and splits its imports from its statements. */
function compile(block: DocBlock): { imports: ts.ImportDeclaration[]; body: string } {
  const js = ts.transpileModule(block.code, {
    fileName: `block.${block.lang}`,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, jsx: ts.JsxEmit.ReactJSX, verbatimModuleSyntax: true },
  }).outputText;
  const source = ts.createSourceFile('block.js', js, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const imports: ts.ImportDeclaration[] = [];
  const body: string[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) imports.push(statement);
    else if (ts.isExportDeclaration(statement) && statement.exportClause && ts.isNamedExports(statement.exportClause) && statement.exportClause.elements.length === 0) continue;
    else if (ts.isExportDeclaration(statement) || ts.isExportAssignment(statement)) throw new Error(`line ${block.line}: re-exports have no meaning in a doc example`);
    else {
      // `export function Board` in an example: the declaration runs, the export has no meaning here.
      const exported = ts.canHaveModifiers(statement) ? ts.getModifiers(statement)?.find((m) => m.kind === ts.SyntaxKind.ExportKeyword) : undefined;
      const text = statement.getFullText(source);
      if (!exported) body.push(text);
      else {
        const at = exported.getStart(source) - statement.getFullStart();
        body.push(text.slice(0, at) + text.slice(exported.getEnd() - statement.getFullStart()));
      }
    }
  }
  return { imports, body: body.join('') };
}

/**
 * Runs the runnable blocks of one doc in order; each block runs in a scope nested in the previous one's,
 * so a block sees what earlier blocks declared and may declare the same names again (a fresh example).
 * Imports of every block are hoisted to the top and resolved through `modules`.
 * @param blocks - the doc's blocks (no-run blocks are left out by the caller or skipped here)
 * @param modules - what each import specifier resolves to
 * @param globals - names the examples use without importing (e.g. a test runner's `it` and `expect`)
 * @returns one run per runnable block, with what it printed
 * @example const runs = await runDocBlocks(extractDocBlocks(text), { '@crmkit/core': core }, {});
 */
export async function runDocBlocks(blocks: DocBlock[], modules: ModuleMap, globals: Record<string, unknown> = {}): Promise<BlockRun[]> {
  const runnable = blocks.filter((b) => b.noRun === undefined);
  const bindings = new Map<string, string>();
  const bind = (local: string, expression: string, line: number) => {
    const previous = bindings.get(local);
    if (previous !== undefined && previous !== expression) throw new Error(`line ${line}: "${local}" is imported from two places in one doc`);
    bindings.set(local, expression);
  };
  const bodies = runnable.map((block) => {
    const { imports, body } = compile(block);
    for (const declaration of imports) {
      const from = (declaration.moduleSpecifier as ts.StringLiteral).text;
      const module = modules[from];
      if (module === undefined) throw new Error(`line ${block.line}: no module '${from}' in the docs runner's module map`);
      const ref = `__modules[${JSON.stringify(from)}]`;
      const clause = declaration.importClause;
      if (clause?.name) bind(clause.name.text, `${ref}.default`, block.line);
      const named = clause?.namedBindings;
      if (named && ts.isNamespaceImport(named)) bind(named.name.text, ref, block.line);
      else if (named) {
        for (const element of named.elements) {
          const name = (element.propertyName ?? element.name).getText();
          if (!(name in module)) throw new Error(`line ${block.line}: '${from}' has no export '${name}'`);
          bind(element.name.text, `${ref}[${JSON.stringify(name)}]`, block.line);
        }
      }
    }
    return body;
  });
  const hoisted = [...bindings].map(([local, expression]) => `const ${local} = ${expression};`).join('\n');
  const nested = bodies.map((body, i) => `{ __block(${i});\n${body}\n`).join('') + '}'.repeat(bodies.length);
  const runs: BlockRun[] = runnable.map((block) => ({ block, output: '', logs: [] }));
  let current = 0;
  const log = (...args: unknown[]) => {
    const run = runs[current]!;
    run.output += `${args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 5, breakLength: Infinity }))).join(' ')}\n`;
    run.logs.push(JSON.parse(JSON.stringify(args.length === 1 ? args[0] : args) ?? 'null') as unknown);
  };
  const console = { ...globalThis.console, log };
  const names = Object.keys(globals);
  const fn = new AsyncFunction('__modules', '__block', 'console', ...names, `'use strict';\n${hoisted}\n${nested}`);
  await fn(modules, (i: number) => (current = i), console, ...names.map((n) => globals[n]));
  return runs;
}
