import type { BaseType } from '../model.js';

/**
 * Type indices below 0x1000 are "simple types" (cvinfo.h CV_type_e / CV_prmode_e): bits 0..7 name
 * the base type, bits 8..11 the pointer mode (0 = direct, 4 = 32-bit near, 6 = 64-bit near pointer).
 * Names follow Volatility 3's ISF base types so imported PDBs and ISF files agree.
 */
type Simple = readonly [name: string, size: number, signed: boolean, kind: BaseType['kind']];

const SIMPLE: ReadonlyMap<number, Simple> = new Map<number, Simple>([
  [0x00, ['void', 0, true, 'void']], // T_NOTYPE
  [0x03, ['void', 0, true, 'void']],
  [0x08, ['long', 4, true, 'int']], // T_HRESULT
  [0x10, ['char', 1, true, 'char']],
  [0x11, ['short', 2, true, 'int']],
  [0x12, ['long', 4, true, 'int']],
  [0x13, ['long long', 8, true, 'int']],
  [0x14, ['__int128', 16, true, 'int']],
  [0x20, ['unsigned char', 1, false, 'char']],
  [0x21, ['unsigned short', 2, false, 'int']],
  [0x22, ['unsigned long', 4, false, 'int']],
  [0x23, ['unsigned long long', 8, false, 'int']],
  [0x24, ['unsigned __int128', 16, false, 'int']],
  [0x30, ['bool', 1, false, 'bool']],
  [0x31, ['bool16', 2, false, 'bool']],
  [0x32, ['bool32', 4, false, 'bool']],
  [0x33, ['bool64', 8, false, 'bool']],
  [0x40, ['float', 4, true, 'float']],
  [0x41, ['double', 8, true, 'float']],
  [0x42, ['long double', 10, true, 'float']],
  [0x43, ['__float128', 16, true, 'float']],
  [0x46, ['half', 2, true, 'float']],
  [0x68, ['char', 1, true, 'char']], // T_INT1
  [0x69, ['unsigned char', 1, false, 'char']], // T_UINT1
  [0x70, ['char', 1, true, 'char']], // T_RCHAR
  [0x71, ['wchar', 2, true, 'int']],
  [0x72, ['short', 2, true, 'int']], // T_INT2
  [0x73, ['unsigned short', 2, false, 'int']],
  [0x74, ['int', 4, true, 'int']], // T_INT4
  [0x75, ['unsigned int', 4, false, 'int']],
  [0x76, ['long long', 8, true, 'int']], // T_INT8
  [0x77, ['unsigned long long', 8, false, 'int']],
  [0x78, ['__int128', 16, true, 'int']],
  [0x79, ['unsigned __int128', 16, false, 'int']],
  [0x7a, ['char16_t', 2, false, 'int']],
  [0x7b, ['char32_t', 4, false, 'int']],
  [0x7c, ['char8_t', 1, false, 'char']],
]);

export interface SimpleType {
  readonly name: string;
  readonly base: BaseType;
  /** Pointer size in bytes when the index is a pointer-to-base (mode != 0), else 0. */
  readonly pointerSize: number;
}

const POINTER_MODE_SIZE: Readonly<Record<number, number>> = { 1: 2, 2: 4, 3: 4, 4: 4, 5: 6, 6: 8, 7: 16 };

export function simpleType(ti: number): SimpleType {
  const s = SIMPLE.get(ti & 0xff);
  const mode = (ti >> 8) & 0x0f;
  const [name, size, signed, kind] = s ?? [`__simple_${(ti & 0xff).toString(16)}`, 0, false, 'void'];
  return { name, base: { size, signed, kind }, pointerSize: POINTER_MODE_SIZE[mode] ?? 0 };
}
