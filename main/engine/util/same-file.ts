import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

/** Is `out` the same file as `image` (path, symlink or hard link)? Evidence is never written over. */
export function sameFile(out: string, image: string): boolean {
  if (resolve(out) === resolve(image)) return true;
  try {
    if (realpathSync(out) === realpathSync(image)) return true;
    const a = statSync(out);
    const b = statSync(image);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false; // out does not exist yet
  }
}
