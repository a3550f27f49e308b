/**
 * Test fixture: a real x86-64 machine state with QEMU's own page walk as the reference.
 *
 * Boots the Debian kernel from /boot in `qemu-system-x86_64` (TCG) with a tiny initramfs whose /init
 * (busybox-static) prints /proc/version and a few /proc/kallsyms lines to the serial console, then
 * sleeps. Once that marker arrives the VM is stopped over QMP, `info registers` (CR3) and `info tlb`
 * (every present leaf of the current page tables) are captured, `dump-guest-memory` writes an ELF core
 * (paging=false: PT_LOADs by guest-physical address plus QEMU's per-CPU notes), and QEMU quits.
 *
 * Cached under <repo>/.cache/fixtures/qemu-<kernel release>-v<FIXTURE_VERSION>/ (core.elf, info-tlb.txt,
 * info-registers.txt, serial.txt, meta.json); the directory is renamed into place only when complete,
 * so concurrent test runs never see half a fixture. Every step is bounded by a timeout that names it;
 * QEMU is always killed on the way out.
 *
 * Prerequisites (Debian packages, installed by scripts/setup.sh): qemu-system-x86, linux-image-amd64,
 * busybox-static. A missing one throws: the real-bytes test must fail loudly, not skip.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCpioNewc } from './cpio.js';

/** Bump when what the fixture captures changes, so stale caches are rebuilt. */
export const FIXTURE_VERSION = 3;
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const QEMU_FIXTURE_CACHE = join(REPO_ROOT, '.cache', 'fixtures');
const BUSYBOX = '/bin/busybox';
const READY = 'MEMSCOPE-READY';
const BEGIN = 'MEMSCOPE-BEGIN';
/**
 * Guest RAM and CPU: Linux maps its direct map with 1 GiB pages only for a 1 GiB-aligned gigabyte
 * that is all RAM and mapped in one step (arch/x86/mm/init.c split_mem_range, memory_map_top_down),
 * and only when the CPU has PDPE1GB (qemu64 lacks it, so it is added). 2304 MiB is the smallest
 * size tried that gives a 1 GiB leaf (DirectMap1G in /proc/meminfo); the core is that large too.
 * Not `-cpu max`: it offers LA57 and the kernel would switch to 5-level paging.
 */
const GUEST_MIB = 2304;
const GUEST_CPU = 'qemu64,+pdpe1gb';
/**
 * nokaslr: with physical KASLR the kernel image may land inside the 1 GiB page's gigabyte, and
 * protecting its direct-map alias splits that page into 2 MiB pages (seen: 0 or 1 giant leaves
 * from boot to boot). At the default 16 MiB load address the 1 GiB leaf is there every time.
 */
const KERNEL_ARGS = 'console=ttyS0 quiet panic=-1 nokaslr';

export interface QemuFixture {
  readonly dir: string;
  readonly corePath: string;
  readonly infoTlb: string;
  readonly infoRegisters: string;
  /** What /init printed between the markers: /proc/version, then kallsyms lines. */
  readonly guestReport: string;
  readonly meta: QemuFixtureMeta;
}

export interface QemuFixtureMeta {
  readonly kernelRelease: string;
  readonly kernelImage: string;
  readonly qemuVersion: string;
  readonly commandLine: readonly string[];
  readonly seconds: Readonly<Record<string, number>>;
}

export interface QemuFixtureOptions {
  /** Overall budget for a fresh capture (default 150 s: TCG on a loaded 2-core machine). */
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

class StepError extends Error {}

function which(cmd: string): string | null {
  for (const d of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = join(d, cmd);
    if (existsSync(p)) return p;
  }
  return null;
}

/** Newest /boot/vmlinuz-<release> (version-aware sort), or null. */
export function findKernel(): { image: string; release: string } | null {
  let names: string[];
  try {
    names = readdirSync('/boot').filter((n) => n.startsWith('vmlinuz-'));
  } catch {
    return null;
  }
  if (names.length === 0) return null;
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const name = names[names.length - 1]!;
  return { image: join('/boot', name), release: name.slice('vmlinuz-'.length) };
}

/** True if the ELF at `path` has no PT_INTERP (a static binary runs alone in an initramfs). */
function isStaticElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const eh = Buffer.alloc(64);
    readSync(fd, eh, 0, 64, 0);
    if (eh.readUInt32BE(0) !== 0x7f454c46 || eh[4] !== 2) return false;
    const phoff = Number(eh.readBigUInt64LE(0x20));
    const phnum = eh.readUInt16LE(0x38);
    const ph = Buffer.alloc(phnum * 56);
    readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * 56) === 3 /* PT_INTERP */) return false;
    return true;
  } finally {
    closeSync(fd);
  }
}

/** Throws one line naming every missing prerequisite and the Debian package that provides it. */
export function checkPrerequisites(): { qemu: string; kernel: { image: string; release: string } } {
  const missing: string[] = [];
  const qemu = which('qemu-system-x86_64');
  if (!qemu) missing.push('qemu-system-x86_64 not on PATH (Debian package qemu-system-x86)');
  const kernel = findKernel();
  if (!kernel) missing.push('no /boot/vmlinuz-* kernel image (Debian package linux-image-amd64)');
  if (!existsSync(BUSYBOX)) missing.push(`${BUSYBOX} missing (Debian package busybox-static)`);
  else if (!isStaticElf(BUSYBOX)) missing.push(`${BUSYBOX} is dynamically linked and cannot run alone in an initramfs (install busybox-static)`);
  if (missing.length > 0) throw new Error(`QEMU fixture prerequisites missing: ${missing.join('; ')}; run scripts/setup.sh`);
  return { qemu: qemu!, kernel: kernel! };
}

function initramfs(): Uint8Array {
  const init = [
    '#!/bin/busybox sh',
    '/bin/busybox mount -t proc proc /proc',
    `echo ${BEGIN}`,
    '/bin/busybox cat /proc/version',
    "/bin/busybox grep -E ' (linux_banner|init_top_pgt|_text)$' /proc/kallsyms",
    `echo ${READY}`,
    // bounded: if the test process dies without killing QEMU, init exits, the kernel panics and
    // panic=-1 + -no-reboot make QEMU exit on its own
    'exec /bin/busybox sleep 600',
    '',
  ].join('\n');
  return buildCpioNewc([
    { kind: 'dir', name: 'bin' },
    { kind: 'dir', name: 'dev' },
    { kind: 'dir', name: 'proc' },
    { kind: 'chardev', name: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', name: 'bin/busybox', data: readFileSync(BUSYBOX), mode: 0o755 },
    { kind: 'file', name: 'init', data: new TextEncoder().encode(init), mode: 0o755 },
  ]);
}

/** Line-delimited QMP client: one command at a time, events skipped. */
class Qmp {
  private buffer = '';
  private waiting: ((msg: Record<string, unknown>) => void) | null = null;
  private readonly queue: Record<string, unknown>[] = [];
  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (line === '') continue;
        const msg = JSON.parse(line) as Record<string, unknown>;
        if ('event' in msg) continue;
        if (this.waiting) {
          const w = this.waiting;
          this.waiting = null;
          w(msg);
        } else this.queue.push(msg);
      }
    });
  }

  static async open(path: string, deadline: number, exited: () => string | null): Promise<Qmp> {
    for (;;) {
      const why = exited();
      if (why) throw new StepError(`QEMU exited before its QMP socket opened (${why})`);
      try {
        const socket = await new Promise<Socket>((ok, fail) => {
          const s = connect(path);
          s.once('connect', () => ok(s));
          s.once('error', fail);
        });
        const qmp = new Qmp(socket);
        await qmp.next(deadline, 'QMP greeting');
        await qmp.command('qmp_capabilities', {}, deadline);
        return qmp;
      } catch (err) {
        if (err instanceof StepError) throw err;
        if (Date.now() > deadline) throw new StepError(`QMP socket ${path} did not accept a connection`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private next(deadline: number, what: string): Promise<Record<string, unknown>> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        fail(new StepError(`timed out waiting for the QMP reply to ${what}`));
      }, Math.max(1, deadline - Date.now()));
      this.waiting = (msg) => {
        clearTimeout(timer);
        ok(msg);
      };
    });
  }

  async command(name: string, args: Record<string, unknown>, deadline: number): Promise<unknown> {
    this.socket.write(JSON.stringify({ execute: name, arguments: args }) + '\n');
    const reply = await this.next(deadline, name);
    if ('error' in reply) throw new StepError(`QMP ${name} failed: ${JSON.stringify(reply.error)}`);
    return reply.return;
  }

  async hmp(commandLine: string, deadline: number): Promise<string> {
    const r = await this.command('human-monitor-command', { 'command-line': commandLine }, deadline);
    if (typeof r !== 'string') throw new StepError(`QMP human-monitor-command "${commandLine}" returned no text`);
    return r;
  }

  close(): void {
    this.socket.destroy();
  }
}

function fixtureDir(release: string): string {
  return join(QEMU_FIXTURE_CACHE, `qemu-${release}-v${FIXTURE_VERSION}`);
}

function load(dir: string): QemuFixture {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as QemuFixtureMeta;
  const serial = readFileSync(join(dir, 'serial.txt'), 'utf8');
  return {
    dir,
    corePath: join(dir, 'core.elf'),
    infoTlb: readFileSync(join(dir, 'info-tlb.txt'), 'utf8'),
    infoRegisters: readFileSync(join(dir, 'info-registers.txt'), 'utf8'),
    guestReport: guestReport(serial) ?? '',
    meta,
  };
}

/** Text between the BEGIN and READY markers, CRs dropped; null until READY has been printed. */
function guestReport(serial: string): string | null {
  const s = serial.replace(/\r/g, '');
  const b = s.indexOf(BEGIN + '\n');
  const r = s.indexOf(READY, b < 0 ? 0 : b);
  if (b < 0 || r < 0) return null;
  return s.slice(b + BEGIN.length + 1, r);
}

/** The cached fixture for the installed kernel, capturing it first when absent. */
export async function qemuFixture(options: QemuFixtureOptions = {}): Promise<QemuFixture> {
  const { qemu, kernel } = checkPrerequisites();
  const dir = fixtureDir(kernel.release);
  if (existsSync(join(dir, 'meta.json'))) return load(dir);
  mkdirSync(QEMU_FIXTURE_CACHE, { recursive: true });
  const work = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(work);
  try {
    await capture(qemu, kernel, work, options);
    pruneStale(dir);
    try {
      renameSync(work, dir);
    } catch (err) {
      if (!existsSync(join(dir, 'meta.json'))) throw err; // else a concurrent run won the race: use its copy
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return load(dir);
}

/** Remove finished fixtures of other kernels or fixture versions (each core is GiBs); never *.tmp-* work dirs. */
function pruneStale(keep: string): void {
  for (const name of readdirSync(QEMU_FIXTURE_CACHE)) {
    const path = join(QEMU_FIXTURE_CACHE, name);
    if (path !== keep && /^qemu-.+-v\d+$/.test(name)) rmSync(path, { recursive: true, force: true });
  }
}

async function capture(qemu: string, kernel: { image: string; release: string }, work: string, options: QemuFixtureOptions): Promise<void> {
  const log = options.log ?? (() => {});
  const t0 = Date.now();
  const deadline = t0 + (options.timeoutMs ?? 150_000);
  const seconds: Record<string, number> = {};
  let lap = t0;
  const mark = (step: string): void => {
    const now = Date.now();
    seconds[step] = (now - lap) / 1000;
    lap = now;
    log(`qemu fixture: ${step} ${seconds[step]!.toFixed(1)} s`);
  };
  writeFileSync(join(work, 'initramfs.cpio'), initramfs());
  const sock = join(work, 'qmp.sock');
  const args = [
    '-machine', 'pc,accel=tcg', '-cpu', GUEST_CPU, '-smp', '1', '-m', String(GUEST_MIB),
    '-nodefaults', '-display', 'none', '-serial', 'stdio', '-no-reboot',
    '-kernel', kernel.image, '-initrd', join(work, 'initramfs.cpio'),
    '-append', KERNEL_ARGS,
    '-qmp', `unix:${sock},server=on,wait=off`,
  ];
  const qemuVersion = execFileSync(qemu, ['--version'], { encoding: 'utf8', timeout: 10_000 }).split('\n')[0]!.trim();
  let child: ChildProcess | null = null;
  let qmp: Qmp | null = null;
  let serial = '';
  let exit: string | null = null;
  let step = 'starting qemu';
  const killOnExit = (): void => void child?.kill('SIGKILL');
  process.once('exit', killOnExit);
  try {
    child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.setEncoding('utf8').on('data', (s: string) => void (serial += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => void (serial += s));
    child.on('error', (err) => void (exit = `spawn failed: ${err.message}`));
    child.on('exit', (code, signal) => void (exit = `exit code ${code ?? '-'}, signal ${signal ?? '-'}`));
    qmp = await Qmp.open(sock, Math.min(deadline, Date.now() + 20_000), () => exit);
    mark('qemu started');

    step = 'booting the guest until /init prints its marker';
    while (guestReport(serial) === null) {
      if (exit) throw new StepError(`QEMU exited (${exit})`);
      if (Date.now() > deadline) throw new StepError('timed out');
      await new Promise((r) => setTimeout(r, 100));
    }
    mark('guest booted');

    step = 'stopping the VM';
    await qmp.command('stop', {}, deadline);
    step = 'info registers';
    const infoRegisters = await qmp.hmp('info registers', deadline);
    step = 'info tlb';
    const infoTlb = await qmp.hmp('info tlb', deadline);
    mark('monitor reference read');
    step = 'dump-guest-memory';
    await qmp.command('dump-guest-memory', { paging: false, protocol: `file:${join(work, 'core.elf')}` }, deadline);
    mark('core dumped');
    step = 'quit';
    await qmp.command('quit', {}, deadline).catch(() => undefined); // QEMU may close the socket before replying

    writeFileSync(join(work, 'info-registers.txt'), infoRegisters);
    writeFileSync(join(work, 'info-tlb.txt'), infoTlb);
    writeFileSync(join(work, 'serial.txt'), serial);
    const meta: QemuFixtureMeta = { kernelRelease: kernel.release, kernelImage: kernel.image, qemuVersion, commandLine: [qemu, ...args], seconds };
    writeFileSync(join(work, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
    rmSync(join(work, 'initramfs.cpio'), { force: true });
    rmSync(sock, { force: true });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const tail = serial.replace(/\r/g, '').trim().split('\n').slice(-8).join(' | ');
    throw new Error(`QEMU fixture failed at step "${step}" after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${msg}${tail ? `; guest/qemu output: ${tail}` : ''}`);
  } finally {
    qmp?.close();
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    process.removeListener('exit', killOnExit);
  }
}
