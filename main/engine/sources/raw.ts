/**
 * Raw physical memory images (.raw/.mem/.bin/.img/.vmem, dd/WinPmem/DumpIt raw output, VMware
 * .vmem): file offset N holds physical address N, so the whole file is one run [0, size).
 * Reserved ranges inside (MMIO holes) are stored as zeros by the acquisition tool and read as such.
 */
import { formatError } from '../errors.js';
import { ImageFile } from './image-file.js';
import type { PhysicalSource } from './physical-source.js';
import { SegmentedSource } from './segmented.js';

/** Serve an already-open file as a raw image (the file is owned by the source from here on). */
export function rawFromFile(file: ImageFile): PhysicalSource {
  if (file.size === 0) {
    file.close();
    throw formatError(file.path, 'empty file, not a memory image');
  }
  return new SegmentedSource('raw', file, [{ start: 0, length: file.size, fileOffset: 0 }]);
}

export function openRaw(path: string): PhysicalSource {
  return rawFromFile(ImageFile.open(path));
}
