import Papa from 'papaparse';
import { validationError, type ValidationIssue } from '../errors/crm-error.js';
import { readCallerInput } from '../crm/parse-input.js';
import type { CsvBatch, CsvRecord, CsvSource } from '../imports/import-types.js';

/** What `csvSource` reads: text, bytes, a `Blob`/`File`, a web `ReadableStream` or an (async) iterable of chunks. */
export type CsvInput =
  | string
  | Uint8Array
  | ArrayBuffer
  | Blob
  | ReadableStream<Uint8Array | string>
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>;

/** Options of `csvSource`. */
export interface CsvSourceOptions {
  /**
   * The bytes' encoding, a WHATWG Encoding label (default `utf-8`): `windows-1252` for files Excel
   * saved as "CSV" in Western Europe, `utf-16le`, `iso-8859-2`, … Bytes that are not valid in it fail
   * with `VALIDATION` (`invalid_encoding`) instead of turning into U+FFFD. A byte order mark decides the
   * encoding whatever this says (UTF-8, UTF-16LE or UTF-16BE, as the WHATWG Encoding Standard's decode and
   * every browser do: an Excel "Unicode text" file is read right even when labelled otherwise) and is dropped.
   */
  readonly encoding?: string;
  /** The field separator; default: detected from the first lines among `,` `;` tab `|`. */
  readonly delimiter?: ',' | ';' | '\t' | '|';
}

const DELIMITERS = [',', ';', '\t', '|'];
/** Text handed to the parser at a time: bounds the memory one step holds. */
const SLICE = 256 * 1024;
/** Text read before the separator is detected (a few lines of any real file). */
const DETECT = 16 * 1024;

function fail(code: string, message: string, path: (string | number)[] = ['csv']): never {
  throw validationError('csv', [{ path, code, message }]);
}

/**
 * The encoding a byte order mark names, as the WHATWG Encoding Standard's "decode" sniffs it (a BOM
 * overrides the stated label): `EF BB BF` UTF-8, `FE FF` UTF-16BE, `FF FE` UTF-16LE.
 */
function bomEncoding(head: Uint8Array): string | undefined {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  return undefined;
}

/** The input as an async iterable of chunks (bytes or text). */
async function* chunksOf(input: CsvInput): AsyncGenerator<Uint8Array | string> {
  if (typeof input === 'string') {
    for (let i = 0; i < input.length; i += SLICE) yield input.slice(i, i + SLICE);
    return;
  }
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) {
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
    for (let i = 0; i < bytes.length; i += SLICE) yield bytes.subarray(i, i + SLICE);
    return;
  }
  const source = typeof Blob !== 'undefined' && input instanceof Blob ? input.stream() : input;
  if (typeof (source as ReadableStream).getReader === 'function') {
    const reader = (source as ReadableStream<Uint8Array | string>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  yield* source as AsyncIterable<Uint8Array | string>;
}

/**
 * The offset in `chunk` of the first byte a fatal decoder refuses (binary search over prefixes decoded
 * in stream mode, where a refusal only grows with the prefix). Leading UTF-8 continuation bytes belong to
 * a character the previous chunk began, so the search starts after them.
 */
function firstBadByte(chunk: Uint8Array, encoding: string): number {
  let start = 0;
  if (encoding === 'utf-8') while (start < 3 && start < chunk.length && (chunk[start]! & 0xc0) === 0x80) start++;
  const fails = (end: number) => {
    try {
      new TextDecoder(encoding, { fatal: true }).decode(chunk.subarray(start, end), { stream: true });
      return false;
    } catch {
      return true;
    }
  };
  let lo = start;
  let hi = chunk.length;
  if (!fails(hi)) return start;
  // Smallest end whose prefix fails: its last byte is the bad one.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (fails(mid)) hi = mid;
    else lo = mid + 1;
  }
  return Math.max(start, lo - 1);
}

/** Whether `input` is something `chunksOf` can read (checked when the source is made, not mid-run). */
function readable(input: unknown): boolean {
  if (typeof input === 'string' || input instanceof Uint8Array || input instanceof ArrayBuffer) return true;
  if (typeof input !== 'object' || input === null) return false;
  const o = input as Record<string | symbol, unknown>;
  return (typeof Blob !== 'undefined' && input instanceof Blob) || typeof o.getReader === 'function' || typeof o[Symbol.asyncIterator] === 'function' || typeof o[Symbol.iterator] === 'function';
}

/** A minimal readable for papaparse's stream reader: we push text into it, it parses synchronously. */
interface PushStream {
  readonly readable: true;
  read(): void;
  pause(): void;
  resume(): void;
  on(event: string, handler: (arg?: unknown) => void): void;
  removeListener(): void;
  readonly handlers: Record<string, (arg?: unknown) => void>;
}

function pushStream(): PushStream {
  const handlers: Record<string, (arg?: unknown) => void> = {};
  return { readable: true, read() {}, pause() {}, resume() {}, on: (event, handler) => void (handlers[event] = handler), removeListener() {}, handlers };
}

/** The separator and line ending papaparse detects in `sample` (the file's first `DETECT` characters: the same for any chunking). */
function detect(sample: string, delimiter: string | undefined): { delimiter: string; newline: string } {
  const meta = Papa.parse<string[]>(sample, { ...(delimiter ? { delimiter } : { delimitersToGuess: DELIMITERS }), skipEmptyLines: 'greedy', preview: 50 }).meta;
  return { delimiter: delimiter ?? meta.delimiter, newline: meta.linebreak };
}

async function* batches(input: CsvInput, options: CsvSourceOptions): AsyncGenerator<CsvBatch> {
  // Chosen once the first three bytes are in (a chunk may hold fewer): the BOM's encoding, else the stated one.
  let decoder: TextDecoder | undefined;
  let lead = new Uint8Array(0);
  const decoderFor = (head: Uint8Array) => new TextDecoder(bomEncoding(head) ?? options.encoding ?? 'utf-8', { fatal: true });
  let header: string[] | undefined;
  let ready: CsvRecord[] = [];
  let parseError: unknown;
  const stream = pushStream();
  /** Records taken (the header not counted) and the line the next row starts on: to name where a quote opened. */
  let records = 0;
  let line = 1;
  const breaks = (text: string) => text.match(/\r\n|\r|\n/g)?.length ?? 0;

  const take = (fields: string[], issues: ValidationIssue[]) => {
    if (!header) {
      header = fields.map((f, i) => (i === 0 ? f.replace(/^\uFEFF/, '') : f).trim());
      const seen = new Set<string>();
      for (const name of header) {
        if (name && seen.has(name)) fail('duplicate_column', `the header names column "${name.slice(0, 100)}" twice`);
        seen.add(name);
      }
      return;
    }
    const values: Record<string, string> = {};
    header.forEach((name, i) => (values[name] = fields[i] ?? ''));
    if (fields.length !== header.length) issues.push({ path: [], code: 'ragged_row', message: `the row has ${fields.length} fields, the header ${header.length}` });
    records++;
    ready.push({ values, ...(issues.length ? { issues } : {}) });
  };

  // Rows come only whole: papaparse holds back the row a chunk cuts and parses it again with the next chunk.
  const chunk = (results: Papa.ParseResult<string[]>) => {
    if (parseError) return;
    const errorsByRow = new Map<number, Papa.ParseError[]>();
    for (const error of results.errors) {
      // An error past the last whole row is the held-back row's, found on a cut: the next chunk parses that row again.
      if (typeof error.row !== 'number' || error.row >= results.data.length) continue;
      errorsByRow.set(error.row, [...(errorsByRow.get(error.row) ?? []), error]);
    }
    try {
      results.data.forEach((fields, i) => {
        const errors = errorsByRow.get(i) ?? [];
        const inside = fields.reduce((n, f) => n + breaks(f), 0);
        const at = line;
        line += 1 + inside;
        // A line of only spaces (or only separators) is an empty line, not a ragged row.
        if (!errors.length && fields.join('').trim() === '') return;
        // A quote that spans lines and does not close cleanly (never closed, or closed by a stray quote lines
        // later) makes the lines in between one cell: those rows would vanish from the counts. The run fails
        // instead, naming the line, so the file is fixed and imported whole.
        // A quote left open at the end takes the file's last line break into its cell: that is no line swallowed.
        const spans = breaks(fields.join('').replace(/(\r\n|\r|\n)$/, ''));
        const quote = errors.find((e) => e.code === 'MissingQuotes') ?? errors.find((e) => e.code === 'InvalidQuotes');
        if (spans > 0 && quote) {
          const how = quote.code === 'MissingQuotes' ? 'is never closed' : 'is closed only by a stray quote lines later';
          fail('unbalanced_quote', `${header ? `row ${records + 1}` : 'the header'} (line ${at}) opens a quote that ${how}: the ${spans} line${spans === 1 ? '' : 's'} after it would be one cell; close or double the quote`);
        }
        const issues = errors.map((e): ValidationIssue => ({ path: [], code: e.code === 'MissingQuotes' ? 'unbalanced_quote' : e.code === 'InvalidQuotes' ? 'invalid_quote' : 'malformed_csv', message: e.message }));
        take(fields, issues);
      });
    } catch (error) {
      parseError = error;
    }
  };

  let sent = false;
  // A file of only a header still yields it (once, at the end): the run checks the mapping's columns against it.
  const flush = function* (last = false): Generator<CsvBatch> {
    if (parseError) throw parseError;
    if (header && (ready.length || (last && !sent))) {
      const records = ready;
      ready = [];
      sent = true;
      yield { header, records };
    }
  };

  let bytes = 0;
  // The separator and line ending are detected from the file's first DETECT characters (the same for any chunking):
  // hold them back, then start the parser with what was found.
  let head: string | undefined = '';
  let started = false;
  const feed = (text: string, last = false) => {
    // A byte order mark in text input goes before the parser sees it: left in, a quoted first header cell would keep its quotes.
    if (!started && text) {
      started = true;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    if (head !== undefined) {
      head += text;
      if (head.length < DETECT && !last) return;
      text = head;
      head = undefined;
      // Excel's `sep=;` first line names the separator (papaparse knows no such line): used unless one is given, and skipped.
      const sep = /^"?sep=([,;\t|])"?(?:\r\n|\n|\r)/i.exec(text);
      if (sep) {
        text = text.slice(sep[0].length);
        line++;
      }
      Papa.parse(stream as never, { ...detect(text.slice(0, DETECT), options.delimiter ?? sep?.[1]), skipEmptyLines: false, chunk, error: (error: unknown) => void (parseError = error) } as never);
    }
    if (text) stream.handlers.data!(text);
  };
  for await (let chunk of chunksOf(input)) {
    let text: string;
    if (typeof chunk === 'string') text = chunk;
    else if (!(chunk instanceof Uint8Array)) fail('invalid_type', 'a chunk of the input is neither text nor bytes (Uint8Array)');
    else {
      if (!decoder) {
        const head = new Uint8Array(lead.length + chunk.length);
        head.set(lead);
        head.set(chunk, lead.length);
        if (head.length < 3) {
          lead = head;
          continue;
        }
        decoder = decoderFor(head);
        chunk = head;
      }
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        const at = bytes + firstBadByte(chunk, decoder.encoding);
        fail('invalid_encoding', `byte ${at} (counted from 0: 0x${chunk[at - bytes]?.toString(16).padStart(2, '0') ?? '??'}) is not valid ${decoder.encoding}; state the file's encoding (e.g. encoding: 'windows-1252')`);
      }
      bytes += chunk.byteLength;
    }
    feed(text);
    yield* flush();
  }
  let rest = '';
  try {
    // A file of fewer than three bytes: decoded whole.
    if (!decoder && lead.length) rest = (decoder = decoderFor(lead)).decode(lead, { stream: true });
    rest += decoder?.decode() ?? '';
  } catch {
    fail('invalid_encoding', `the file ends inside a ${decoder!.encoding} character`);
  }
  feed(rest, true);
  stream.handlers.end!();
  yield* flush(true);
  if (!header) fail('empty_file', 'the file has no header line');
}

/**
 * Reads a CSV file (RFC 4180: quoted fields with separators, quotes and line breaks, CRLF or LF) for
 * `crm.import.run({ csv })`, streaming: the file is decoded and parsed chunk by chunk (papaparse), so
 * memory holds one chunk, not the file; how the bytes are chunked never changes what a row reads as. The first line is the header (a file of only a header yields it with no records, so the run still checks its columns); lines of only spaces or
 * separators are skipped, and so is Excel's `sep=;` first line, whose separator is used unless `delimiter` is given. A ragged row or a quote left open on the last line fails that row in the
 * import's report; a quote opened mid-file and never closed or closed only by a stray quote lines
 * later (it would swallow the rows in between),
 * bytes invalid in the stated encoding, a header naming a column twice or an empty file fail the
 * run with `VALIDATION` (`unbalanced_quote` names the row and line).
 *
 * @param input Text, bytes, a `Blob`/`File`, a web `ReadableStream` or an (async) iterable of chunks.
 * @param options `encoding` (default `utf-8`), `delimiter` (default: detected among `,` `;` tab `|`).
 * @returns The source to pass as `csv` (an async iterable of record batches).
 * @throws CrmError `VALIDATION` for an encoding label the runtime does not know or a bad delimiter.
 * @example
 * import { csvSource } from '@crmkit/core/csv';
 * const report = await crm.import.run({ entity: 'contact', csv: csvSource(file, { encoding: 'windows-1252' }), mapping });
 */
export function csvSource(input: CsvInput, raw: CsvSourceOptions = {}): CsvSource {
  // Checked and copied in one read: a throwing getter is the caller's VALIDATION.
  const options = readCallerInput('csvSource', (): CsvSourceOptions => {
    if (!readable(input)) fail('invalid_type', 'must be text, bytes, a Blob/File, a ReadableStream or an (async) iterable of text or byte chunks', ['input']);
    if (typeof raw !== 'object' || raw === null) fail('invalid_type', 'must be an options object', ['options']);
    for (const key of Object.keys(raw)) if (key !== 'encoding' && key !== 'delimiter') fail('unknown_field', `unknown option "${key.slice(0, 50)}"`, ['options', key]);
    const { encoding, delimiter } = raw;
    if (delimiter !== undefined && !DELIMITERS.includes(delimiter)) fail('invalid_value', 'must be ",", ";", "\\t" or "|"', ['options', 'delimiter']);
    try {
      new TextDecoder(encoding ?? 'utf-8');
    } catch {
      fail('invalid_value', `this runtime knows no encoding "${String(encoding).slice(0, 50)}"`, ['options', 'encoding']);
    }
    return { encoding, delimiter };
  });
  let used = false;
  return {
    [Symbol.asyncIterator]() {
      // A stream can be read once: a second pass would silently see nothing.
      if (used && typeof input !== 'string' && !(input instanceof Uint8Array) && !(input instanceof ArrayBuffer)) fail('invalid_value', 'this CSV source was read already; make a new one (csvSource) for another pass');
      used = true;
      return batches(input, options);
    },
  };
}
