import { formatError } from '../../errors.js';
import type { BaseType, EnumDef, FieldDef, StructDef, TypeRef } from '../model.js';
import { simpleType } from './simple-types.js';
import type { FieldListMember, TypeRecord, TypeStream } from './tpi.js';

/** Pointer/array/modifier chains in real PDBs are a handful deep; anything deeper is a cycle in corrupt data. */
const MAX_CHAIN_DEPTH = 64;
/** LF_INDEX continuations split huge field lists (e.g. big enums); bounded against cycles. */
const MAX_CONTINUATIONS = 4096;

export interface ConvertedTypes {
  readonly baseTypes: Record<string, BaseType>;
  readonly types: Record<string, StructDef>;
  readonly enums: Record<string, EnumDef>;
}

type Named = Extract<TypeRecord, { leaf: 'class' | 'enum' }>;

/**
 * Anonymous types get Volatility 3's stable name `__unnamed_<definition type index hex>` (C compilers
 * emit `<unnamed-tag>` / `__unnamed` for every one of them). C++ nested names such as
 * `X::<unnamed-type-u>` are already unique and are kept.
 */
export function isUnnamed(name: string): boolean {
  return name === '' || name === '__unnamed' || name.endsWith('<unnamed-tag>') || name.endsWith('<anonymous-tag>') || name.startsWith('<unnamed-');
}

export class TypeConverter {
  private readonly definitions = new Map<string, number>();
  private readonly refCache = new Map<number, TypeRef>();
  readonly baseTypes: Record<string, BaseType> = {};

  constructor(private readonly tpi: TypeStream, private readonly pointerSize: 4 | 8) {
    this.baseTypes.pointer = { size: pointerSize, signed: false, kind: 'int' };
    // Forward references name their definition by unique (decorated) name when present, else by name.
    tpi.records.forEach((r, i) => {
      if ((r.leaf === 'class' || r.leaf === 'enum') && !r.fwdRef) {
        const key = keyOf(r);
        if (!this.definitions.has(key)) this.definitions.set(key, tpi.typeIndexBegin + i);
      }
    });
  }

  convert(): ConvertedTypes {
    const types: Record<string, StructDef> = {};
    const enums: Record<string, EnumDef> = {};
    const { records, typeIndexBegin } = this.tpi;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const ti = typeIndexBegin + i;
      if (r.leaf === 'class' && !r.fwdRef) {
        const name = this.nameOf(r, ti);
        if (!Object.hasOwn(types, name)) types[name] = this.structDef(r);
      } else if (r.leaf === 'enum' && !r.fwdRef) {
        const name = this.nameOf(r, ti);
        if (!Object.hasOwn(enums, name)) enums[name] = this.enumDef(r);
      }
    }
    return { baseTypes: this.baseTypes, types, enums };
  }

  /** Follow a forward reference to its definition (same unique name); unresolved ones stay as they are. */
  resolve(ti: number): number {
    const r = this.tpi.record(ti);
    if (r && (r.leaf === 'class' || r.leaf === 'enum') && r.fwdRef) return this.definitions.get(keyOf(r)) ?? ti;
    return ti;
  }

  typeRef(ti: number, depth = 0): TypeRef {
    const cached = this.refCache.get(ti);
    if (cached) return cached;
    if (depth > MAX_CHAIN_DEPTH) throw formatError(this.tpi.what, `type 0x${ti.toString(16)} is part of a reference chain deeper than ${MAX_CHAIN_DEPTH} (cyclic type records)`);
    const ref = this.computeRef(ti, depth);
    this.refCache.set(ti, ref);
    return ref;
  }

  private computeRef(ti: number, depth: number): TypeRef {
    if (ti < this.tpi.typeIndexBegin) {
      const s = simpleType(ti);
      this.baseTypes[s.name] ??= s.base;
      const base: TypeRef = { kind: 'base', name: s.name };
      return s.pointerSize ? { kind: 'pointer', subtype: base } : base;
    }
    const r = this.tpi.record(ti);
    if (!r) throw formatError(this.tpi.what, `reference to type 0x${ti.toString(16)} beyond the last record 0x${(this.tpi.typeIndexEnd - 1).toString(16)}`);
    switch (r.leaf) {
      case 'class': {
        const def = this.resolve(ti);
        return { kind: 'struct', name: this.nameOf(this.tpi.record(def) as Named, def) };
      }
      case 'enum': {
        const def = this.resolve(ti);
        return { kind: 'enum', name: this.nameOf(this.tpi.record(def) as Named, def) };
      }
      case 'pointer': return { kind: 'pointer', subtype: this.typeRef(r.referent, depth + 1) };
      case 'modifier': return this.typeRef(r.referent, depth + 1); // const/volatile do not change layout
      case 'array': {
        const subtype = this.typeRef(r.element, depth + 1);
        const elemSize = this.sizeOf(r.element, depth + 1);
        return { kind: 'array', count: elemSize > 0 ? Math.floor(r.size / elemSize) : 0, subtype };
      }
      case 'bitfield': return { kind: 'bitfield', bitPosition: r.position, bitLength: r.length, type: this.typeRef(r.type, depth + 1) };
      case 'procedure': return { kind: 'function' };
      case 'fieldlist':
      case 'other': return { kind: 'base', name: 'void' };
    }
  }

  /** Byte size of any type index (needed for array element counts: LF_ARRAY stores total bytes). */
  sizeOf(ti: number, depth = 0): number {
    if (depth > MAX_CHAIN_DEPTH) throw formatError(this.tpi.what, `type 0x${ti.toString(16)} is part of a reference chain deeper than ${MAX_CHAIN_DEPTH} (cyclic type records)`);
    if (ti < this.tpi.typeIndexBegin) {
      const s = simpleType(ti);
      return s.pointerSize || s.base.size;
    }
    const r = this.tpi.record(ti);
    if (!r) return 0;
    switch (r.leaf) {
      case 'class': { const d = this.tpi.record(this.resolve(ti)); return d?.leaf === 'class' ? d.size : 0; }
      case 'enum': { const d = this.tpi.record(this.resolve(ti)); return d?.leaf === 'enum' ? this.sizeOf(d.underlying, depth + 1) : 0; }
      case 'pointer': return r.size || this.pointerSize;
      case 'modifier': return this.sizeOf(r.referent, depth + 1);
      case 'array': return r.size;
      case 'bitfield': return this.sizeOf(r.type, depth + 1);
      default: return 0;
    }
  }

  nameOf(r: Named, ti: number): string {
    return isUnnamed(r.name) ? `__unnamed_${ti.toString(16)}` : r.name;
  }

  /** All members of a field list, following LF_INDEX continuation records (cycle- and count-bounded). */
  members(fieldList: number): FieldListMember[] {
    const out: FieldListMember[] = [];
    const seen = new Set<number>();
    let next: number | undefined = fieldList;
    while (next !== undefined && next >= this.tpi.typeIndexBegin) {
      if (seen.has(next) || seen.size >= MAX_CONTINUATIONS) throw formatError(this.tpi.what, `field list 0x${fieldList.toString(16)} has cyclic LF_INDEX continuations`);
      seen.add(next);
      const cur: number = next;
      next = undefined;
      for (const m of this.tpi.fieldList(cur)) {
        if (m.kind === 'continuation') next = m.type;
        else out.push(m);
      }
    }
    return out;
  }

  private structDef(r: Extract<TypeRecord, { leaf: 'class' }>): StructDef {
    const fields: Record<string, FieldDef> = {};
    for (const m of this.members(r.fieldList)) {
      if (m.kind !== 'member') continue;
      if (m.name && !Object.hasOwn(fields, m.name)) fields[m.name] = { offset: m.offset, type: this.typeRef(m.type) };
    }
    return { kind: r.kind, size: r.size, fields };
  }

  private enumDef(r: Extract<TypeRecord, { leaf: 'enum' }>): EnumDef {
    const constants: Record<string, number> = {};
    for (const m of this.members(r.fieldList)) {
      if (m.kind === 'enumerate' && !Object.hasOwn(constants, m.name)) constants[m.name] = m.value;
    }
    const baseRef = this.typeRef(r.underlying);
    return { size: this.sizeOf(r.underlying), base: baseRef.kind === 'base' ? baseRef.name : 'int', constants };
  }
}

function keyOf(r: Named): string {
  return (r.leaf === 'enum' ? 'E:' : 'C:') + (r.uniqueName ?? r.name);
}
