/** Hex formatting used in every JSON output: lower case, `0x` prefix, no padding. */
export function hex(v: number | bigint): string {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`hex(): ${v} is not a non-negative safe integer`);
    return '0x' + v.toString(16);
  }
  return '0x' + (v < 0n ? BigInt.asUintN(64, v) : v).toString(16);
}

/** Parse a user-supplied hex (0x… or bare hex digits, backticks as in WinDbg `fffff800`12345678` allowed). */
export function parseHex(text: string): bigint | null {
  const t = text.trim().replace(/`/g, '').replace(/^0x/i, '');
  if (!/^[0-9a-f]{1,16}$/i.test(t)) return null;
  return BigInt('0x' + t);
}

/** Parse a decimal or hex length such as `4096` or `0x1000`. */
export function parseLength(text: string): number | null {
  const t = text.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t.slice(2), 16);
  if (/^[0-9]+$/.test(t)) return Number.parseInt(t, 10);
  return null;
}
