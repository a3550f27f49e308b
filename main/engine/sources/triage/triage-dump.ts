/**
 * A kernel triage dump (DUMP_HEADER64 DumpType 4) opened read-only: what Windows saves when it
 * keeps only a "small memory dump" — the header, the crashing CPU's context and PRCB, the crashing
 * thread and its process (copies of the kernel objects), its call stack, the loaded-driver list, a
 * KDBG copy, and a few blocks of kernel virtual memory. No physical memory and no page tables: it is
 * not a PhysicalSource, and openSource refuses it with notPhysicalMemory().
 *
 * Opening reads and bounds-checks the TRIAGE_DUMP header and the data-block table; the driver list
 * and the KDBG copy are read (and checked) when asked for.
 */
import { analysisError, formatError, type MemScopeError } from '../../errors.js';
import { DUMP_TYPE, readDumpHeader, type DumpHeader64 } from '../crashdump-header.js';
import { ImageFile } from '../image-file.js';
import { blockHolding, readTriageMemory, type TriageMemory } from './data-blocks.js';
import { readDriverList, type TriageDriver } from './driver-list.js';
import { readKdbg, type KdbgCopy } from './kdbg.js';
import { checkRegion, readTriageHeader, type TriageBounds, type TriageHeader } from './triage-header.js';

/** The kernel objects a triage dump copies whole, by the TRIAGE_DUMP field that locates them. */
export type CopiedObject = 'PrcbOffset' | 'ProcessOffset' | 'ThreadOffset';

const COPY_FIELD: Readonly<Record<CopiedObject, keyof TriageHeader>> = {
  PrcbOffset: 'prcbOffset',
  ProcessOffset: 'processOffset',
  ThreadOffset: 'threadOffset',
};

export class TriageDump {
  readonly path: string;
  private driverCache: TriageDriver[] | null = null;
  private kdbgCache: KdbgCopy | null | undefined;

  private constructor(
    private readonly file: ImageFile,
    readonly header: DumpHeader64,
    readonly triage: TriageHeader,
    readonly memory: TriageMemory,
  ) {
    this.path = file.path;
  }

  /** Read the triage headers of an open file whose DUMP_HEADER64 says DumpType 4; the caller owns the file until this returns. */
  static fromFile(file: ImageFile, header: DumpHeader64): TriageDump {
    if (header.dumpType !== DUMP_TYPE.triage) throw formatError(file.path, `crash dump DumpType ${header.dumpType} is not a triage dump (4)`);
    const triage = readTriageHeader(file);
    return new TriageDump(file, header, triage, readTriageMemory(file, triage, bounds(file.path, triage)));
  }

  /** The loaded drivers, in the dump's order (ntoskrnl.exe first). */
  drivers(): readonly TriageDriver[] {
    this.driverCache ??= readDriverList(this.file, this.triage, bounds(this.path, this.triage));
    return this.driverCache;
  }

  kdbg(): KdbgCopy | null {
    if (this.kdbgCache === undefined) this.kdbgCache = readKdbg(this.file, this.triage);
    return this.kdbgCache;
  }

  /**
   * `length` bytes of a copied kernel object (the size comes from the kernel's profile), or null
   * when the dump has none; a copy running past the triage data is an error naming the field.
   */
  copyOf(object: CopiedObject, length: number): Uint8Array | null {
    const offset = this.triage[COPY_FIELD[object]] as number;
    if (offset === 0) return null;
    checkRegion(bounds(this.path, this.triage), object, offset, length, 'copied object');
    return this.file.readAt(offset, length);
  }

  /** Kernel virtual memory the dump holds, when one data block covers all `length` bytes at `va`. */
  readVirtual(va: bigint, length: number): Uint8Array | null {
    const b = blockHolding(this.memory.blocks, va, length);
    if (!b) return null;
    const data = this.file.readAt(b.offset + Number(va - b.virtualAddress), length);
    return data.length === length ? data : null;
  }

  close(): void {
    this.file.close();
  }
}

const bounds = (path: string, t: TriageHeader): TriageBounds => ({ path, sizeOfDump: t.sizeOfDump });

/** Open `path` as a triage dump (read-only); the file is closed on failure. */
export function openTriageDump(path: string): TriageDump {
  const file = ImageFile.open(path);
  try {
    return TriageDump.fromFile(file, readDumpHeader(file));
  } catch (err) {
    file.close();
    throw err;
  }
}

/** What every command that needs physical memory says about a triage dump. */
export function notPhysicalMemory(dump: TriageDump): MemScopeError {
  const m = dump.memory;
  return analysisError(
    dump.path,
    `a kernel triage dump (DumpType 4) holds only ${m.pages} pages of memory (${m.blocks.length} blocks of kernel virtual memory, no physical memory or page tables), not the physical memory this command reads; \`memscope info\` still shows its bugcheck, crash time, build, kernel base, crashing thread's process and loaded drivers`,
  );
}
