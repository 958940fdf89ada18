/**
 * What the calling thread (wasm_pool.ts) and the worker threads (wasm_worker.ts) of the WebAssembly kernels
 * agree on: the layout of the control block at the start of the shared memory, the message that starts a
 * worker, and how a chunk of a call is claimed. Both sides import it from here; the worker's bundle
 * (scripts/build_worker.mjs) carries its own copy of this module's code, the one source.
 *
 * A parallel call is cut into chunks (argument lists); the caller writes them into the table of the
 * control block, bumps a generation counter (GEN) and notifies. Every thread, the caller included, then
 * claims chunks (claimChunk) until none are left, and the caller waits until all are done (DONE).
 */

// Control block: Int32 words, then a table of chunks (256 bytes each: the result (f64), then up to 16
// arguments (f64)).
export const GEN = 0; // bumped to start a call
export const DONE = 1; // chunks finished in this call
export const PROBE = 2; // never written: Atomics.wait on it tells whether this thread may wait
export const NEXT = 3; // the call's tag (bits 8–30) and the next chunk to claim (bits 0–7); CLOSED: no call open
export const COUNT = 4; // chunks in this call
export const OP = 5; // what the chunks run (an index into WORKER_OPS), or OP_EXIT
export const FAILED = 6; // 1 + the first chunk that threw in a worker (0: none); its slot holds the error text
export const TABLE_BYTE = 64;
export const CHUNK_BYTES = 256;
export const MAX_ARGS = 16;
// In a chunk's slot, after the result and the arguments: a failed worker's error text (UTF-16 code units,
// the first one the length).
export const ERROR_BYTE = 8 + MAX_ARGS * 8;
export const ERROR_UNITS = (CHUNK_BYTES - ERROR_BYTE) / 2;
export const MAX_CHUNKS = 64;
/** Bytes of the control block: the words and the chunk table. */
export const CONTROL_BYTES = TABLE_BYTE + MAX_CHUNKS * CHUNK_BYTES;
export const OP_EXIT = -2;
// The low byte of NEXT when no call is open: above any chunk count (≤ MAX_CHUNKS), so nothing is claimed.
export const CLOSED = 255;
export const TAG_MASK = 0x7fffff; // tags wrap after 2²³ calls (NEXT stays a positive Int32)

/** Exports of assembly/ that the workers may run, by index (OP). */
export const WORKER_OPS = [
  "gemm",
  "lstm_forward",
  "lstm_backward",
  "softmax_xent",
  "gemm_packed",
  "lstm_recurrent_forward",
  "lstm_recurrent_backward",
] as const;
export type WorkerOp = (typeof WORKER_OPS)[number];

/** The one message a worker receives: what it needs to instantiate the module and join calls. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte offset of the control block. */
  ctrl: number;
  /** Byte offset of this worker's gemm scratch area. */
  work: number;
  ops: readonly WorkerOp[];
  /** Per op: the position of its scratch (`work`) argument, or -1. */
  workArg: readonly number[];
  /** How long to busy-wait for the next call before sleeping in Atomics.wait, in milliseconds. */
  spinMs: number;
}

/** The control words: Int32 view of the block's first TABLE_BYTE bytes. */
export function controlWords(memory: WebAssembly.Memory, ctrl: number): Int32Array {
  return new Int32Array(memory.buffer, ctrl, TABLE_BYTE / 4);
}

/** The chunk table as f64 (results and arguments): chunk c's result is at c·CHUNK_BYTES/8. */
export function chunkTable(memory: WebAssembly.Memory, ctrl: number): Float64Array {
  return new Float64Array(memory.buffer, ctrl + TABLE_BYTE, (MAX_CHUNKS * CHUNK_BYTES) / 8);
}

/** The chunk table as UTF-16 code units (a failed chunk's error text, at (c·CHUNK_BYTES + ERROR_BYTE)/2). */
export function chunkText(memory: WebAssembly.Memory, ctrl: number): Uint16Array {
  return new Uint16Array(memory.buffer, ctrl + TABLE_BYTE, (MAX_CHUNKS * CHUNK_BYTES) / 2);
}

/**
 * Claims the next chunk of the open call: its index, or -1 when none is left (or no call is open). The
 * claim is a compare-and-swap on NEXT, which holds the call's tag and the next index, so it can only
 * succeed while the call whose NEXT value was read is still open. (A plain Atomics.add on an index, as
 * before, let a worker that overshot the end of one call compare its stale index with the next call's
 * COUNT and run a chunk that another thread also claimed; the doubled DONE then let the caller return
 * before a chunk was finished: wrong results, now and then, on more than one thread.)
 *
 * COUNT is only rewritten while NEXT is closed, so a NEXT value that is open both when it is read and at
 * the successful swap belongs to the call whose COUNT was read between the two.
 */
export function claimChunk(I: Int32Array): number {
  for (;;) {
    const v = Atomics.load(I, NEXT);
    const c = v & 255;
    if (c >= Atomics.load(I, COUNT)) return -1;
    if (Atomics.compareExchange(I, NEXT, v, v + 1) === v) return c;
  }
}

/** A failed chunk's error text as the worker stores it: one line, at most ERROR_UNITS − 1 code units. */
export function writeErrorText(U: Uint16Array, chunk: number, text: string): void {
  const line = text.split("\n")[0].slice(0, ERROR_UNITS - 1);
  const at = (chunk * CHUNK_BYTES + ERROR_BYTE) / 2;
  U[at] = line.length;
  for (let i = 0; i < line.length; i++) U[at + 1 + i] = line.charCodeAt(i);
}

/** The text writeErrorText stored for `chunk`. */
export function readErrorText(U: Uint16Array, chunk: number): string {
  const at = (chunk * CHUNK_BYTES + ERROR_BYTE) / 2;
  return String.fromCharCode(...U.subarray(at + 1, at + 1 + Math.min(U[at], ERROR_UNITS - 1)));
}
