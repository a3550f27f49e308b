import type { Profile } from '../profile/profile.js';
import type { TypeRef } from '../profile/model.js';

/**
 * Writes a profile type's fields into a byte buffer by name ("Pcb.DirectoryTableBase"), so every
 * offset and width comes from the profile, never from a literal.
 */
export class StructBuf {
  constructor(
    private readonly profile: Profile,
    readonly typeName: string,
    readonly buf: Uint8Array,
    readonly base = 0,
  ) {}

  private resolve(path: string): { offset: number; type: TypeRef } {
    let typeName = this.typeName;
    let offset = 0;
    let type: TypeRef = { kind: 'struct', name: typeName };
    for (const part of path.split('.')) {
      if (type.kind !== 'struct') throw new RangeError(`${this.typeName}.${path}: ${part} is not inside a struct`);
      typeName = type.name;
      const f = this.profile.field(typeName, part);
      offset += f.offset;
      type = f.type;
    }
    return { offset, type };
  }

  has(path: string): boolean {
    let typeName = this.typeName;
    for (const part of path.split('.')) {
      if (!this.profile.hasField(typeName, part)) return false;
      const t = this.profile.field(typeName, part).type;
      if (t.kind === 'struct') typeName = t.name;
    }
    return true;
  }

  offsetOf(path: string): number {
    return this.resolve(path).offset;
  }

  /** Integer / pointer / bitfield / small struct (LARGE_INTEGER, EX_FAST_REF) written little-endian. */
  set(path: string, value: bigint | number): this {
    const { offset, type } = this.resolve(path);
    const v = BigInt.asUintN(64, BigInt(value));
    if (type.kind === 'bitfield') {
      const size = this.profile.sizeOfRef(type.type);
      const mask = ((1n << BigInt(type.bitLength)) - 1n) << BigInt(type.bitPosition);
      const cur = this.readUint(offset, size);
      this.writeUint(offset, size, (cur & ~mask) | ((v << BigInt(type.bitPosition)) & mask));
      return this;
    }
    const size = this.profile.sizeOfRef(type);
    if (size > 8 || size === 0) throw new RangeError(`${this.typeName}.${path} is ${size} bytes, not an integer`);
    this.writeUint(offset, size, v);
    return this;
  }

  /** Set only when the build's profile has the field (e.g. UserDirectoryTableBase). */
  setIf(path: string, value: bigint | number): boolean {
    if (!this.has(path)) return false;
    this.set(path, value);
    return true;
  }

  setBytes(path: string, bytes: Uint8Array): this {
    const { offset, type } = this.resolve(path);
    const size = this.profile.sizeOfRef(type);
    if (bytes.length > size) throw new RangeError(`${this.typeName}.${path}: ${bytes.length} bytes do not fit in ${size}`);
    this.buf.set(bytes, this.base + offset);
    return this;
  }

  /** LIST_ENTRY at `path` pointing to itself (an empty list head), given this struct's VA. */
  emptyList(path: string, structVa: bigint): this {
    const va = structVa + BigInt(this.offsetOf(path));
    return this.set(`${path}.Flink`, va).set(`${path}.Blink`, va);
  }

  private readUint(offset: number, size: number): bigint {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.buf[this.base + offset + i] ?? 0);
    return v;
  }

  private writeUint(offset: number, size: number, v: bigint): void {
    for (let i = 0; i < size; i++) this.buf[this.base + offset + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  }
}
