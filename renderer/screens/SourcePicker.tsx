/** The empty state: what MemScope reads, how to open it, the sample when one is built, and what Live memory needs. */
import { useApp } from '../store/context.js';

export function SourcePicker() {
  const caps = useApp((s) => s.capabilities);
  const openImage = useApp((s) => s.openImage);
  const dialogs = caps?.nativeDialogs ?? false;
  return (
    <section className="source-picker" aria-labelledby="picker-title">
      <h1 id="picker-title">Open a memory image</h1>
      <p>
        MemScope reads the physical memory of a Windows x64 machine and finds its kernel, page-table base (DTB)
        and symbol profile, then lists processes three ways so hidden and exited ones stand out.
      </p>
      <ul className="formats">
        <li><strong>Raw images</strong> (<span className="mono">.raw .mem .bin</span>): WinPmem, DumpIt, FTK Imager, dd</li>
        <li><strong>ELF cores</strong>: QEMU <span className="mono">dump-guest-memory</span>, <span className="mono">virsh dump --memory-only</span></li>
        <li><strong>Windows crash dumps</strong> (<span className="mono">.dmp</span>): full and bitmap kernel dumps</li>
      </ul>
      <p>
        {dialogs
          ? <>Choose <strong>Open image</strong> (Ctrl+O) to pick a file.</>
          : <>Type the image’s path in the field above and press <strong>Open image</strong> (or Enter; Ctrl+O goes to the field).</>}
        {' '}Images are opened read-only; nothing you open is ever written.
      </p>
      {caps?.sampleImage && (
        <p>
          No image at hand? <button type="button" className="link" onClick={() => void openImage(caps.sampleImage!)}>Open the sample image</button>
          {' '}<span className="mono muted">{caps.sampleImage}</span>
        </p>
      )}
      {caps && <p className="muted">{caps.live.available ? 'Live memory of this machine is available (Live memory).' : caps.live.reason}.</p>}
    </section>
  );
}
