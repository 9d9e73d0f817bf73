/**
 * The reader registry: a small shared object, read-write for readers (the data segment is
 * read-only for them). Its layout and wake protocol are declared in native/include/mdfan_abi.h
 * (mdfan_registry_header_t, mdfan_reader_line_t). It holds what readers must write: one 128-byte
 * line per attached reader (pid, state) and, on its own line, the count of readers sleeping on the
 * futex, so the writer wakes them only when someone sleeps: a writer with no sleepers makes no
 * syscall, just one load per input message.
 *
 * Readers write into it and the writer maps it, so no reader may be able to shrink it (the writer
 * would die of SIGBUS at its next sleeper check): it is a memfd sealed against shrinking and
 * growing, with no name in /dev/shm. A reader gets its descriptor from the writer's control socket
 * (a `{"type":"registry"}` line, answered with SCM_RIGHTS), so exactly those who may connect to
 * the socket (its mode: the data segment's readers) may join. Without a control plane a reader
 * has no line and polls instead of sleeping.
 *
 * Lost wake-ups cannot happen (a Dekker pattern; every access here is seq_cst, and the writer's
 * commits, which end in release stores, are ordered before its sleeper load by a seq_cst fence):
 *   reader: line.state = SLEEPING ; sleepers += 1 (RMW) ; v = notify_seq ;
 *           look for new commits (Atomics.load of the seq words) ; none -> futex_wait(notify_seq, v)
 *   writer: commits ; StoreLoad fence (SegmentWriter.wakeIfSleepers: an Atomics.store to a private
 *           word, an XCHG on x86-64) ; if sleepers > 0 (load) -> notify_seq += 1 (RMW) ; futex_wake
 * (top sleepers alike, on the tops' futex word, after a message that changed a top)
 * Either the writer sees the sleeper (and bumps notify_seq, so the wait returns at once or is
 * woken), or the reader sees the commit before it sleeps.
 *
 * A reader killed while asleep would leave the count too high (the writer would make needless
 * wake-up syscalls, never miss one). The writer's heartbeat sweep frees the lines of dead pids
 * and takes their sleep off the count.
 */
import * as abi from './abi.js';
import { native } from './binding.js';
import { COMPANION_SUFFIXES, Mapping } from './mapping.js';

export const { REGISTRY_MAGIC, REGISTRY_LINE_BYTES, REGISTRY_CAPACITY, READER_FREE, READER_ATTACHED, READER_SLEEPING, READER_SLEEPING_TOP } = abi;
/** Word indexes (u32), from the header's mdfan_registry_header_t and mdfan_reader_line_t. */
const W_MAGIC = abi.REGISTRY.magic.offset >>> 2;
const W_CAPACITY = abi.REGISTRY.capacity.offset >>> 2;
const W_SLEEPERS = abi.REGISTRY.sleepers.offset >>> 2;
const W_TOP_SLEEPERS = abi.REGISTRY.top_sleepers.offset >>> 2;
/** The count a sleeping line is counted in. */
const countOf = (state: number): number => (state === READER_SLEEPING_TOP ? W_TOP_SLEEPERS : W_SLEEPERS);
const W_PID = abi.READER_LINE.pid.offset >>> 2;
const W_STATE = abi.READER_LINE.state.offset >>> 2;
/** First word of reader line i. */
const lineWord = (i: number): number => (abi.SIZEOF.registry_header + i * abi.SIZEOF.reader_line) >>> 2;
/** The name an ABI 1.0–1.2 writer gave its registry in /dev/shm (a leftover is removed with the segment). */
export const registryName = (segment: string): string => `${segment}${COMPANION_SUFFIXES.registry}`;
const BYTES = abi.registryBytes();
/** The control-socket line that asks for the registry's descriptor. */
export const REGISTRY_REQUEST = '{"type":"registry"}\n';
/** How long a reader waits for the descriptor (a writer's event loop answers within a turn). */
const REGISTRY_ANSWER_MS = 500;

/** The writer's side: creates (or resets) the registry, reads the sleeper count, sweeps the dead. */
export class RegistryOwner {
  private constructor(
    readonly name: string,
    readonly map: Mapping,
  ) {}

  /** A new registry for this writer: a sealed memfd (its descriptor goes to readers over the control socket). */
  static create(segment: string): RegistryOwner {
    const name = `${registryName(segment)} (memfd)`;
    const m = Mapping.map(name, native.memfdCreate(BYTES), BYTES, true);
    Atomics.store(m.u32, W_CAPACITY, REGISTRY_CAPACITY);
    Atomics.store(m.u32, W_MAGIC, REGISTRY_MAGIC);
    return new RegistryOwner(name, m);
  }

  /** The memfd, for the control plane to hand to readers. */
  get fd(): number {
    return this.map.fd;
  }

  /** Readers asleep on the futex (seq_cst load: pairs with the reader's increment). */
  sleepers(): number {
    return Atomics.load(this.map.u32, W_SLEEPERS);
  }

  /** Readers asleep on the top futex (seq_cst load: pairs with the reader's increment). */
  topSleepers(): number {
    return Atomics.load(this.map.u32, W_TOP_SLEEPERS);
  }

  /** Attached readers (live lines). */
  readers(): Array<{ pid: number; sleeping: boolean }> {
    const out: Array<{ pid: number; sleeping: boolean }> = [];
    for (let i = 0; i < REGISTRY_CAPACITY; i++) {
      const w = lineWord(i);
      const state = Atomics.load(this.map.u32, w + W_STATE);
      if (state !== READER_FREE) out.push({ pid: Atomics.load(this.map.u32, w + W_PID), sleeping: state === READER_SLEEPING || state === READER_SLEEPING_TOP });
    }
    return out;
  }

  /** Frees the lines of readers whose process is gone, taking a dead sleeper off the count. */
  sweep(): number {
    let freed = 0;
    const u32 = this.map.u32;
    for (let i = 0; i < REGISTRY_CAPACITY; i++) {
      const w = lineWord(i);
      const state = Atomics.load(u32, w + W_STATE);
      if (state === READER_FREE) continue;
      const pid = Atomics.load(u32, w + W_PID);
      if (pid === 0 || pidAlive(pid)) continue;
      // A dead process cannot race us. The pid is cleared first, while the line is not FREE (no
      // one can claim it), so a later claimer never shows the dead pid to another sweep; the CAS
      // guards against a reader that reused the line meanwhile.
      if (Atomics.compareExchange(u32, w + W_PID, pid, 0) !== pid) continue;
      if (Atomics.compareExchange(u32, w + W_STATE, state, READER_FREE) === state) {
        if (state === READER_SLEEPING || state === READER_SLEEPING_TOP) Atomics.sub(u32, countOf(state), 1);
        freed++;
      }
    }
    return freed;
  }

  /** Unmaps and closes the memfd (readers' mappings keep it alive until they go). */
  close(): void {
    this.map.close();
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM'; // exists, another user's
  }
}

/** A reader's line in the registry: announce, sleep, leave. */
export class RegistryLine {
  private constructor(
    private readonly map: Mapping,
    private readonly word: number,
  ) {}

  /**
   * Claims a free line in the registry of the writer whose control socket is `controlPath`; null
   * if there is none (no control plane, an old writer), it does not answer, or it is full (the
   * reader then cannot block, and polls).
   */
  static claim(controlPath: string): RegistryLine | null {
    if (!controlPath) return null;
    let fd: number;
    try {
      fd = native.recvFd(controlPath, REGISTRY_REQUEST, REGISTRY_ANSWER_MS);
    } catch {
      return null;
    }
    return RegistryLine.attach(fd);
  }

  /** Claims a free line in the registry whose descriptor is `fd` (taken over: closed with the line); null if it is not one, or full. */
  static attach(fd: number): RegistryLine | null {
    let m: Mapping;
    try {
      if (native.fstat(fd).size < BYTES) {
        native.close(fd);
        return null;
      }
      m = Mapping.map('registry', fd, BYTES, true);
    } catch {
      return null;
    }
    if (Atomics.load(m.u32, W_MAGIC) !== REGISTRY_MAGIC) {
      m.close();
      return null;
    }
    for (let i = 0; i < REGISTRY_CAPACITY; i++) {
      const w = lineWord(i);
      if (Atomics.compareExchange(m.u32, w + W_STATE, READER_FREE, READER_ATTACHED) === READER_FREE) {
        Atomics.store(m.u32, w + W_PID, process.pid);
        return new RegistryLine(m, w);
      }
    }
    m.close();
    return null;
  }

  /**
   * Before sleeping: counted first (seq_cst), so a writer committing after this wakes us. `top`:
   * asleep on the top futex word (woken by top changes only), counted in top_sleepers.
   */
  beginSleep(top = false): void {
    const state = top ? READER_SLEEPING_TOP : READER_SLEEPING;
    Atomics.store(this.map.u32, this.word + W_STATE, state);
    Atomics.add(this.map.u32, countOf(state), 1);
  }

  endSleep(): void {
    // CAS: the writer's sweep never touches a live reader, but be exact about the count.
    const u32 = this.map.u32;
    const state = Atomics.load(u32, this.word + W_STATE);
    if ((state === READER_SLEEPING || state === READER_SLEEPING_TOP) && Atomics.compareExchange(u32, this.word + W_STATE, state, READER_ATTACHED) === state)
      Atomics.sub(u32, countOf(state), 1);
  }

  release(): void {
    if (this.map.isClosed) return;
    this.endSleep();
    // pid first (seq_cst), then FREE: a line is never FREE with a pid in it, so the next claimer's
    // line shows pid 0 until it stores its own, and sweeps skip pid 0.
    Atomics.store(this.map.u32, this.word + W_PID, 0);
    Atomics.store(this.map.u32, this.word + W_STATE, READER_FREE);
    this.map.close();
  }
}
