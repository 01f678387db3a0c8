/** The whole text an export stream yields (the tests' way to read `crm.export.run`). */
export async function text(pieces: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const piece of pieces) out += piece;
  return out;
}
