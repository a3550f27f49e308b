import { analysisError } from '../errors.js';
import type { BaseType, EnumDef, FieldDef, PdbIdentity, ProfileData, StructDef, TypeRef } from './model.js';

/**
 * Typed accessor over ProfileData. Every structure offset the engine uses is read through here, by
 * name; a missing type/field/symbol is a clear analysis error naming the build, never `undefined`.
 */
export class Profile {
  constructor(readonly data: ProfileData) {}

  get pdb(): PdbIdentity {
    return this.data.pdb;
  }

  /** Human label: build string when known, else pdb name + GUID/age. */
  get label(): string {
    return this.data.build ?? `${this.data.pdb.name} ${this.data.pdb.guid}/${this.data.pdb.age}`;
  }

  hasType(name: string): boolean {
    return Object.hasOwn(this.data.types, name);
  }

  type(name: string): StructDef {
    const t = this.data.types[name];
    if (!t || !Object.hasOwn(this.data.types, name)) throw analysisError(`profile ${this.label}`, `has no type ${name}`);
    return t;
  }

  sizeOf(typeName: string): number {
    return this.type(typeName).size;
  }

  hasField(typeName: string, field: string): boolean {
    return this.hasType(typeName) && Object.hasOwn(this.type(typeName).fields, field);
  }

  field(typeName: string, field: string): FieldDef {
    const f = this.type(typeName).fields[field];
    if (!f || !Object.hasOwn(this.type(typeName).fields, field)) {
      throw analysisError(`profile ${this.label}`, `type ${typeName} has no field ${field}`);
    }
    return f;
  }

  offsetOf(typeName: string, field: string): number {
    return this.field(typeName, field).offset;
  }

  hasSymbol(name: string): boolean {
    return Object.hasOwn(this.data.symbols, name);
  }

  /** RVA of a kernel symbol from the image base. */
  symbol(name: string): number {
    const rva = this.data.symbols[name];
    if (rva === undefined || !Object.hasOwn(this.data.symbols, name)) throw analysisError(`profile ${this.label}`, `has no symbol ${name}`);
    return rva;
  }

  baseType(name: string): BaseType {
    const b = this.data.baseTypes[name];
    if (!b) throw analysisError(`profile ${this.label}`, `has no base type ${name}`);
    return b;
  }

  enumDef(name: string): EnumDef {
    const e = this.data.enums[name];
    if (!e) throw analysisError(`profile ${this.label}`, `has no enum ${name}`);
    return e;
  }

  /** Size in bytes of any type reference (pointer = pointerSize, arrays multiplied out). */
  sizeOfRef(ref: TypeRef): number {
    switch (ref.kind) {
      case 'base': return this.baseType(ref.name).size;
      case 'struct': return this.sizeOf(ref.name);
      case 'enum': return this.enumDef(ref.name).size;
      case 'pointer': return this.data.pointerSize;
      case 'array': return ref.count * this.sizeOfRef(ref.subtype);
      case 'bitfield': return this.sizeOfRef(ref.type);
      case 'function': return 0;
    }
  }
}
