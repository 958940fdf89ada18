/**
 * The heap of the WebAssembly kernels: the part of the shared memory after the control block and the
 * threads' scratch areas, handed out as an arena (alloc / mark / release, offsets in 4-byte elements), with
 * the Float32 and Int32 views of the whole memory. The memory grows when an allocation needs it.
 */
import { kernelMemoryError } from "../limits.js";
import type { Kernels } from "./types.js";

export const PAGE = 65536;
const ARENA_ALIGN = 16; // elements (64 bytes: a cache line; the contract asks for 16 bytes)

/** The arena part of the Kernels contract. */
export type Arena = Pick<Kernels, "f32" | "i32" | "alloc" | "mark" | "release">;

/**
 * An arena on `memory` from element `base` (a multiple of ARENA_ALIGN) up; the memory grows up to
 * `maxPages` pages, by at least a quarter at a time.
 */
export function createArena(memory: WebAssembly.Memory, base: number, maxPages: number): Arena {
  let F = new Float32Array(memory.buffer);
  let Iv = new Int32Array(memory.buffer);
  let top = base;

  function refreshViews(): void {
    if (F.buffer.byteLength !== memory.buffer.byteLength) {
      F = new Float32Array(memory.buffer);
      Iv = new Int32Array(memory.buffer);
    }
  }

  return {
    f32: () => F,
    i32: () => Iv,

    alloc(count: number): number {
      if (!Number.isInteger(count) || count < 0) throw new RangeError(`alloc: bad element count ${count}`);
      const offset = top;
      const end = offset + Math.ceil(count / ARENA_ALIGN) * ARENA_ALIGN;
      const needBytes = end * 4;
      if (needBytes > memory.buffer.byteLength) {
        const pages = Math.ceil((needBytes - memory.buffer.byteLength) / PAGE);
        const current = memory.buffer.byteLength / PAGE;
        // Grow by at least a quarter, so a growing model does not grow page by page.
        const want = Math.min(maxPages - current, Math.max(pages, Math.ceil(current / 4)));
        if (want < pages) {
          throw kernelMemoryError(needBytes - memory.buffer.byteLength, (maxPages * PAGE) / 2 ** 20);
        }
        memory.grow(want);
        refreshViews();
      }
      F.fill(0, offset, end); // released memory is reused: zero it again
      top = end;
      return offset;
    },

    mark: () => top,

    release(mark: number): void {
      if (!Number.isInteger(mark) || mark < base || mark > top || mark % ARENA_ALIGN !== 0) {
        throw new RangeError(`release: ${mark} is not a mark of this arena (top ${top})`);
      }
      top = mark;
    },
  };
}
