/** One ```ts or ```tsx block of a Markdown file. */
export interface DocBlock {
  /** 1-based line of the opening fence, for messages. */
  line: number;
  lang: 'ts' | 'tsx';
  code: string;
  /** Inside an HTML comment: setup or a check the reader does not see, run like any other block. */
  hidden: boolean;
  /** Set for ```ts no-run <reason>: the block is not run, and the reason says why. */
  noRun?: string;
  /** The text of the "prints" fence that follows the block: what the block prints, exactly. */
  prints?: string;
  /** Values of `console.log(…); // → <JSON>` lines, in order: the block's logs must equal them. */
  expectedLogs: unknown[];
}

const fence = /^```(tsx?)((?:[ \t][^\n]*)?)\n([\s\S]*?)^```[ \t]*$/gm;
const printsAfter = /^\s*\nprints\n\n```\n([\s\S]*?\n)```/;

/**
 * Extracts every TypeScript block of a Markdown file, in order.
 * @param markdown - the file's text
 * @returns the blocks; throws on an info string other than `no-run <reason>` (a typo would silently skip a block)
 * @example extractDocBlocks(readFileSync('docs/feed.md', 'utf8'))
 */
export function extractDocBlocks(markdown: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  for (const match of markdown.matchAll(fence)) {
    const [whole, lang, info, code] = match as unknown as [string, 'ts' | 'tsx', string, string];
    const line = markdown.slice(0, match.index).split('\n').length;
    const words = info.trim();
    let noRun: string | undefined;
    if (words !== '') {
      const noRunMatch = /^no-run\s+(\S.*)$/.exec(words);
      if (!noRunMatch) throw new Error(`line ${line}: unknown info string "${words}" (only "no-run <reason>" is known)`);
      noRun = noRunMatch[1]!;
    }
    const before = markdown.slice(0, match.index);
    const hidden = before.lastIndexOf('<!--') > before.lastIndexOf('-->');
    const prints = printsAfter.exec(markdown.slice(match.index + whole.length))?.[1];
    const expectedLogs = [...code.matchAll(/console\.log\(.*\);\s*\/\/ → (.*)$/gm)].map((m) => {
      try {
        return JSON.parse(m[1]!) as unknown;
      } catch {
        throw new Error(`line ${line}: "// → ${m[1]}" is not JSON`);
      }
    });
    blocks.push({ line, lang, code, hidden, expectedLogs, ...(noRun !== undefined ? { noRun } : {}), ...(prints !== undefined ? { prints } : {}) });
  }
  return blocks;
}
