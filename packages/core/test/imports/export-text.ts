/** The whole text an export stream yields (the tests' way to read `crm.export.run`); given the call, its refusal at the call rejects too. */
export async function text(pieces: AsyncIterable<string> | (() => AsyncIterable<string>)): Promise<string> {
  let out = '';
  for await (const piece of typeof pieces === 'function' ? pieces() : pieces) out += piece;
  return out;
}
