/** A selection of bytes as a responder pastes it: hex, a C array, or the WinDbg command that shows it. */
import { toHex } from './address.js';

/** `bytes[i]` null = unreadable (copied as ?? in hex; 0x00 with a comment in C). */
export function asHex(bytes: readonly (number | null)[]): string {
  return bytes.map((b) => (b === null ? '??' : b.toString(16).padStart(2, '0'))).join(' ');
}

export function asCArray(bytes: readonly (number | null)[], address: bigint): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 12) {
    lines.push('  ' + bytes.slice(i, i + 12).map((b) => (b === null ? '0x00 /* ?? */' : `0x${b.toString(16).padStart(2, '0')}`)).join(', ') + ',');
  }
  return `/* ${bytes.length} bytes at ${toHex(address)} */\nunsigned char bytes_${address.toString(16)}[${bytes.length}] = {\n${lines.join('\n')}\n};\n`;
}

/** WinDbg: `db <address> L<count>` (`!db` for a physical address). */
export function asWinDbg(address: bigint, length: number, physical: boolean): string {
  return `${physical ? '!db' : 'db'} ${toHex(address)} L${toHex(BigInt(length))}`;
}
