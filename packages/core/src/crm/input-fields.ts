/**
 * The record fields an input writes, for field rules: input keys, `custom.<key>` for each custom
 * value, and the fields a key sets indirectly (a deal's `currency` and `lineItems` set its `value`).
 * Control keys (`version`, `id`, `scope`, a nested `nextStep`) write no field of the record.
 */
export function inputFields(entity: string, input: object | undefined): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(input ?? {})) {
    if (value === undefined || key === 'version' || key === 'id' || key === 'scope' || key === 'nextStep') continue;
    if (key === 'custom' && value && typeof value === 'object') out.push(...Object.keys(value).map((k) => `custom.${k}`));
    else if (entity === 'deal' && key === 'currency') out.push('value');
    else if (entity === 'deal' && key === 'lineItems') out.push('lineItems', 'value');
    else out.push(key);
  }
  return out;
}
