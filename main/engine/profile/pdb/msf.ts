import { formatError } from '../../errors.js';

/**
 * MSF 7.0 container ("multi-stream file", LLVM docs "The MSF File Format"): the file is an array of
 * fixed-size blocks; block 0 holds the superblock, the stream directory lists every stream's size and
 * blocks. Streams are assembled lazily so a corrupt, unused stream never costs memory.
 */

export const MSF_MAGIC = 'Microsoft C/C++ MSF 7.00\r\n\x1aDS\0\0\0';
const SUPERBLOCK_SIZE = 56; // 32-byte magic + 6 u32
/** Larger than any real PDB we load (ntkrnlmp.pdb is ~10-30 MiB); guards absurd inputs. */
export const MAX_PDB_BYTES = 1 << 30;
const NIL_STREAM_SIZE = 0xffffffff;

export interface MsfSuperBlock {
  readonly blockSize: number;
  readonly freeBlockMapBlock: number;
  readonly numBlocks: number;
  readonly numDirectoryBytes: number;
  readonly blockMapAddr: number;
}

export class MsfFile {
  private constructor(
    readonly bytes: Uint8Array,
    readonly label: string,
    readonly superBlock: MsfSuperBlock,
    private readonly streamSizes: readonly number[],
    private readonly streamBlocks: readonly Uint32Array[],
  ) {}

  get streamCount(): number {
    return this.streamSizes.length;
  }

  hasStream(index: number): boolean {
    return index >= 0 && index < this.streamSizes.length && index !== 0xffff;
  }

  streamSize(index: number): number {
    return this.streamSizes[index] ?? 0;
  }

  /** Contiguous copy of one stream (bounded: its blocks were validated against the file when the directory was read). */
  stream(index: number, name: string): Uint8Array {
    if (!this.hasStream(index)) throw formatError(`${this.label} ${name} stream`, `stream index ${index} does not exist (file has ${this.streamCount} streams)`);
    const size = this.streamSizes[index]!;
    const blocks = this.streamBlocks[index]!;
    return gather(this.bytes, this.superBlock.blockSize, blocks, size);
  }

  static open(bytes: Uint8Array, label = 'PDB'): MsfFile {
    const what = `${label} MSF superblock`;
    if (bytes.length > MAX_PDB_BYTES) throw formatError(label, `file is ${bytes.length} bytes, larger than the ${MAX_PDB_BYTES}-byte limit for a PDB`);
    if (bytes.length < SUPERBLOCK_SIZE) throw formatError(what, `file is only ${bytes.length} bytes, too short for an MSF 7.0 superblock`);
    for (let i = 0; i < MSF_MAGIC.length; i++) {
      if (bytes[i] !== MSF_MAGIC.charCodeAt(i)) throw formatError(label, 'not an MSF 7.0 PDB (bad superblock magic)');
    }
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const sb: MsfSuperBlock = {
      blockSize: dv.getUint32(32, true),
      freeBlockMapBlock: dv.getUint32(36, true),
      numBlocks: dv.getUint32(40, true),
      numDirectoryBytes: dv.getUint32(44, true),
      blockMapAddr: dv.getUint32(52, true),
    };
    if (![512, 1024, 2048, 4096].includes(sb.blockSize)) throw formatError(what, `invalid block size ${sb.blockSize}`);
    if (sb.freeBlockMapBlock !== 1 && sb.freeBlockMapBlock !== 2) throw formatError(what, `invalid free block map block ${sb.freeBlockMapBlock}`);
    const declared = sb.numBlocks * sb.blockSize;
    if (declared > MAX_PDB_BYTES) throw formatError(what, `declares ${sb.numBlocks} blocks of ${sb.blockSize} bytes, an absurd size`);
    if (bytes.length < declared) {
      throw formatError(label, `truncated: superblock declares ${sb.numBlocks} blocks (${declared} bytes) but the file holds ${bytes.length} bytes`);
    }
    const numBlocks = sb.numBlocks;
    if (sb.numDirectoryBytes < 4 || sb.numDirectoryBytes > numBlocks * sb.blockSize) {
      throw formatError(what, `invalid stream directory size ${sb.numDirectoryBytes}`);
    }
    const dirBlockCount = Math.ceil(sb.numDirectoryBytes / sb.blockSize);
    // The block map is one array of u32 block numbers inside block `blockMapAddr`.
    if (sb.blockMapAddr === 0 || sb.blockMapAddr >= numBlocks) throw formatError(what, `block map address ${sb.blockMapAddr} is outside the file (${numBlocks} blocks)`);
    if (dirBlockCount * 4 > sb.blockSize) throw formatError(what, `stream directory of ${sb.numDirectoryBytes} bytes does not fit one block map block`);
    const blockMapOff = sb.blockMapAddr * sb.blockSize;
    if (blockMapOff + dirBlockCount * 4 > bytes.length) throw formatError(what, 'block map runs past the end of the file');
    const dirBlocks = new Uint32Array(dirBlockCount);
    for (let i = 0; i < dirBlockCount; i++) {
      const b = dv.getUint32(blockMapOff + i * 4, true);
      checkBlock(b, numBlocks, bytes.length, sb.blockSize, `${label} MSF block map`, `directory block ${i}`);
      dirBlocks[i] = b;
    }
    const dir = gather(bytes, sb.blockSize, dirBlocks, sb.numDirectoryBytes);
    const ddv = new DataView(dir.buffer, dir.byteOffset, dir.byteLength);
    const dwhat = `${label} MSF stream directory`;
    const numStreams = ddv.getUint32(0, true);
    if (4 + numStreams * 4 > dir.length) throw formatError(dwhat, `declares ${numStreams} streams but is only ${dir.length} bytes`);
    const sizes: number[] = new Array<number>(numStreams);
    let pos = 4 + numStreams * 4;
    const blocks: Uint32Array[] = new Array<Uint32Array>(numStreams);
    for (let s = 0; s < numStreams; s++) {
      const raw = ddv.getUint32(4 + s * 4, true);
      const size = raw === NIL_STREAM_SIZE ? 0 : raw;
      if (size > numBlocks * sb.blockSize) throw formatError(dwhat, `stream ${s} declares ${size} bytes, more than the whole file`);
      const n = Math.ceil(size / sb.blockSize);
      if (pos + n * 4 > dir.length) throw formatError(dwhat, `block list of stream ${s} runs past the end of the directory`);
      const list = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        const b = ddv.getUint32(pos, true);
        pos += 4;
        checkBlock(b, numBlocks, bytes.length, sb.blockSize, dwhat, `stream ${s} block ${i}`);
        list[i] = b;
      }
      sizes[s] = size;
      blocks[s] = list;
    }
    return new MsfFile(bytes, label, sb, sizes, blocks);
  }
}

function checkBlock(b: number, numBlocks: number, fileLen: number, blockSize: number, what: string, which: string): void {
  if (b === 0 || b >= numBlocks || b * blockSize >= fileLen) {
    throw formatError(what, `${which} points to block ${b}, outside the file (${numBlocks} blocks)`);
  }
}

function gather(bytes: Uint8Array, blockSize: number, blocks: Uint32Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < blocks.length; i++) {
    const start = blocks[i]! * blockSize;
    const len = Math.min(blockSize, size - i * blockSize);
    out.set(bytes.subarray(start, start + len), i * blockSize); // in the file: checkBlock validated every block
  }
  return out;
}
