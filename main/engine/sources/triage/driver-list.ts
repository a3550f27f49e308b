/**
 * The loaded-driver list a triage dump carries (DriverListOffset, DriverCount): DUMP_DRIVER_ENTRY64
 * records of 0x90 bytes, each { DriverNameOffset u32, pad u32, LdrEntry: the debugger's fixed
 * 64-bit KLDR_DATA_TABLE_ENTRY (0x88 bytes) }, and their names in the string pool as DUMP_STRING
 * { Length u32 (in WCHARs), Buffer WCHAR[Length], NUL }. This is the dump format's own layout, fixed
 * whatever the kernel build (rizin dmp_specs.h dmp_driver_entry64 / dmp_kldr_data_table_entry64),
 * not the kernel's _KLDR_DATA_TABLE_ENTRY (0xa0 bytes on 19041): checked on triage_x64.dmp, whose
 * entry 0 at 0x10828 is ntoskrnl.exe, DllBase 0xfffff8047ba00000 (LdrEntry+0x30), SizeOfImage
 * 0x1046000 (+0x40), CheckSum 0xa5938c (+0x78) and TimeDateStamp 0xd8333e6 (+0x80), the same values
 * as the PE header the dump holds at that base.
 */
import { formatError } from '../../errors.js';
import { MAX_READ } from '../physical-source.js';
import type { ImageFile } from '../image-file.js';
import { checkRegion, type TriageBounds, type TriageHeader } from './triage-header.js';

const ENTRY_SIZE = 0x90;
const LDR = 8;
const DLL_BASE = LDR + 0x30;
const SIZE_OF_IMAGE = LDR + 0x40;
const CHECK_SUM = LDR + 0x78;
const TIME_DATE_STAMP = LDR + 0x80;
/** UNICODE_STRING's USHORT byte length caps a name at 32767 WCHARs. */
const MAX_NAME_CHARS = 0x7fff;

export interface TriageDriver {
  /** As stored, e.g. "\SystemRoot\system32\ntoskrnl.exe". */
  readonly path: string;
  /** The file name part, e.g. "ntoskrnl.exe". */
  readonly name: string;
  readonly base: bigint;
  readonly size: number;
  /** With name and size: the key a symbol server files the binary under. */
  readonly timeDateStamp: number;
  readonly checkSum: number;
}

export function readDriverList(file: ImageFile, t: TriageHeader, bounds: TriageBounds): TriageDriver[] {
  const path = file.path;
  if (t.driverCount === 0) return [];
  const listBytes = t.driverCount * ENTRY_SIZE;
  if (listBytes > MAX_READ) throw formatError(path, `triage dump DriverCount ${t.driverCount} is absurd (${listBytes} bytes of driver list)`);
  checkRegion(bounds, 'DriverCount', t.driverListOffset, listBytes, `${t.driverCount} driver entries`);
  if (t.stringPoolOffset === 0) throw formatError(path, `triage dump has ${t.driverCount} drivers but no string pool for their names (StringPoolOffset 0)`);
  const list = file.readAt(t.driverListOffset, listBytes);
  const pool = file.readAt(t.stringPoolOffset, t.stringPoolSize);
  const drivers: TriageDriver[] = [];
  for (let i = 0; i < t.driverCount; i++) {
    const e = i * ENTRY_SIZE;
    const p = dumpString(path, pool, t, i, list.readUInt32LE(e));
    drivers.push({
      path: p,
      name: p.slice(p.lastIndexOf('\\') + 1),
      base: list.readBigUInt64LE(e + DLL_BASE),
      size: list.readUInt32LE(e + SIZE_OF_IMAGE),
      timeDateStamp: list.readUInt32LE(e + TIME_DATE_STAMP),
      checkSum: list.readUInt32LE(e + CHECK_SUM),
    });
  }
  return drivers;
}

/** A DUMP_STRING at file offset `at`, which must lie inside the string pool with all its characters. */
function dumpString(path: string, pool: Buffer, t: TriageHeader, index: number, at: number): string {
  const rel = at - t.stringPoolOffset;
  const field = `driver ${index} DriverNameOffset 0x${at.toString(16)}`;
  if (rel < 0 || rel + 4 > pool.length) {
    throw formatError(path, `triage dump ${field} lies outside the string pool (0x${t.stringPoolOffset.toString(16)}, 0x${t.stringPoolSize.toString(16)} bytes)`);
  }
  const chars = pool.readUInt32LE(rel);
  if (chars > MAX_NAME_CHARS || rel + 4 + chars * 2 > pool.length) {
    throw formatError(path, `triage dump ${field}: name Length ${chars} runs past the end of the string pool`);
  }
  return pool.toString('utf16le', rel + 4, rel + 4 + chars * 2);
}
