#!/usr/bin/env node
// Matrix-product micro-benchmark: GFLOP/s per shape of the WebAssembly kernels, single- and multi-threaded.
//
//   npm run bench:gemm                      (= npm run build && node bench/gemm.mjs)
//   node bench/gemm.mjs --threads=1,2 --trials=15
//   node bench/gemm.mjs --crossover --parallel-min-flops=0
//                                           small products: 1 thread vs all, to place gemmParallelMinFlops
//   node bench/gemm.mjs --pointwise         µs per call of the other kernels (LSTM cell, softmax, adam, …)
//   node bench/gemm.mjs --recurrent         ms per call of one layer's recurrent loop (64 steps of 64 rows, and
//                                           ragged): the per-step gemm and cell calls vs lstmRecurrent*
//   node bench/gemm.mjs --torch             adds torch.mm (/usr/bin/python3, OpenBLAS) at 1 and all threads
//   node bench/gemm.mjs --raw a.wasm b.wasm compares bare modules exporting gemm(...)/gemm_work_floats()
//                                           (how AssemblyScript and C were compared: bench/README-kernels.md)
//
// The machine may be shared: every number is the best of --trials timed runs, the variants interleaved, so
// a burst of someone else's work hurts all columns alike and the best run is the uncontended one.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const a = args.find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
  if (!a) return fallback;
  return a.includes("=") ? a.slice(a.indexOf("=") + 1) : true;
};
const TRIALS = Number(flag("trials", 15));
const CORES = availableParallelism();

// (transA, transB, m, n, k) — the products of training a stacked LSTM at batch 64, length 64:
// recurrent step h·Wᵀ-like (64 rows), batched input projection (4096 rows), weight gradient (transA,
// k = 4096 time-steps × batch), softmax layer (259 classes), and their transposed variants.
const SHAPES = [
  [false, false, 64, 256, 64],
  [false, false, 64, 256, 128],
  [false, false, 64, 1024, 256],
  [false, false, 64, 1024, 512],
  [false, false, 4096, 1024, 256],
  [true, false, 256, 1024, 4096],
  [false, false, 4096, 259, 256],
  [false, true, 64, 1024, 256],
  [false, true, 4096, 256, 1024],
  [true, false, 64, 1024, 4096],
  [false, true, 4096, 259, 256],
  [true, false, 256, 259, 4096],
];
const label = ([ta, tb, m, n, k]) => `${ta ? "T" : "N"}${tb ? "T" : "N"} ${m}×${n}×${k}`;

function fill(f, from, to) {
  let s = 12345;
  for (let i = from; i < to; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    f[i] = s / 4294967296 - 0.5;
  }
}

/** Best GFLOP/s of each runner over TRIALS interleaved trials. */
function measure(runners, flop) {
  const reps = Math.max(2, Math.ceil(4e7 / flop));
  for (const r of runners) for (let i = 0; i < reps * 3; i++) r();
  const best = runners.map(() => 0);
  for (let t = 0; t < TRIALS; t++) {
    for (let i = 0; i < runners.length; i++) {
      const t0 = performance.now();
      for (let q = 0; q < reps; q++) runners[i]();
      const g = (flop * reps) / ((performance.now() - t0) / 1000) / 1e9;
      if (g > best[i]) best[i] = g;
    }
  }
  return best;
}

function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
}

/** torch.mm GFLOP/s per shape, one Python process per thread count (BLAS pools sized by environment). */
function torchColumns(shapes, threadCounts) {
  const py = `
import sys, time, json
import torch
shapes = json.loads(sys.argv[1]); nt = int(sys.argv[2])
torch.set_num_threads(nt); col = []
for ta, tb, m, n, k in shapes:
  a = torch.randn(k, m).t() if ta else torch.randn(m, k)
  b = torch.randn(n, k).t() if tb else torch.randn(k, n)
  c = torch.empty(m, n); flop = 2*m*n*k; reps = max(2, int(4e7/flop))
  for _ in range(reps*3): torch.mm(a, b, out=c)
  best = 0
  for _ in range(${TRIALS}):
    t0 = time.perf_counter()
    for _ in range(reps): torch.mm(a, b, out=c)
    best = max(best, flop*reps/(time.perf_counter()-t0)/1e9)
  col.append(round(best, 1))
print(json.dumps(col))`;
  const cols = [];
  for (const nt of threadCounts) {
    const n = String(nt);
    const env = { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n };
    const r = spawnSync("/usr/bin/python3", ["-c", py, JSON.stringify(shapes), n], { encoding: "utf8", env });
    if (r.status !== 0) {
      console.error(`(torch not measured: ${(r.stderr || r.error?.message || "").trim().split("\n").pop()})`);
      return null;
    }
    cols.push(JSON.parse(r.stdout));
  }
  return cols;
}

async function rawMode(files) {
  const mods = [];
  for (const file of files) {
    const memory = new WebAssembly.Memory({ initial: 4096, maximum: 65536, shared: true });
    const { instance } = await WebAssembly.instantiate(readFileSync(file), { env: { memory } });
    mods.push({ memory, ex: instance.exports });
  }
  const rows = [];
  for (const shape of SHAPES) {
    const [ta, tb, m, n, k] = shape;
    const runners = mods.map(({ memory, ex }) => {
      const work = 1 << 18; // floats
      const a = work + ex.gemm_work_floats() + 64;
      const b = a + m * k + 64;
      const c = b + k * n + 64;
      const need = (c + m * n + 64) * 4;
      if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
      fill(new Float32Array(memory.buffer), a, c + m * n);
      const lda = ta ? m : k;
      const ldb = tb ? k : n;
      return () => ex.gemm(ta, tb, m, n, k, 1, a * 4, lda, b * 4, ldb, 0, c * 4, n, work * 4);
    });
    rows.push([label(shape), ...measure(runners, 2 * m * n * k).map((g) => g.toFixed(1))]);
  }
  printTable(["shape (1 thread)", ...files.map((f) => f.split("/").pop())], rows);
}

async function kernelsMode() {
  const { createWasmKernels } = await import("../dist/kernels/wasm_node.js");
  const threadList = String(flag("threads", `1,${CORES}`))
    .split(",")
    .map(Number)
    .filter((t, i, all) => all.indexOf(t) === i);
  const builds = flag("simd", "both") === "both" ? ["simd", "relaxed"] : [flag("simd")];
  const variants = [];
  for (const simd of builds) {
    for (const threads of threadList) {
      try {
        const minFlops = flag("parallel-min-flops", undefined);
        const k = await createWasmKernels({
          simd,
          threads,
          ...(minFlops === undefined ? {} : { gemmParallelMinFlops: Number(minFlops) }),
        });
        variants.push({ name: `${k.simd} ×${threads}`, k });
      } catch (e) {
        console.error(`(${simd} ×${threads} unavailable: ${e.message})`);
      }
    }
  }
  const crossover = flag("crossover", false);
  const shapes = crossover
    ? [4, 8, 12, 16, 24, 32, 48, 64].map((s) => [false, false, 64, 4 * s, s])
    : SHAPES.map((s) => s);
  const rows = [];
  for (const shape of shapes) {
    const [ta, tb, m, n, k] = shape;
    const runners = variants.map(({ k: K }) => {
      const mk = K.mark();
      const a = K.alloc(m * k);
      const b = K.alloc(k * n);
      const c = K.alloc(m * n);
      fill(K.f32(), a, c + m * n);
      const lda = ta ? m : k;
      const ldb = tb ? k : n;
      const run = () => K.gemm(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, c, n);
      run.release = () => K.release(mk);
      return run;
    });
    const g = measure(runners, 2 * m * n * k);
    for (const r of runners) r.release();
    rows.push([label(shape), `${((2 * m * n * k) / 1e6).toFixed(2)}`, ...g.map((x) => x.toFixed(1))]);
  }
  const header = ["shape", "MFLOP", ...variants.map((v) => v.name)];
  if (flag("torch", false)) {
    const cols = torchColumns(shapes, threadList);
    if (cols) {
      for (let i = 0; i < cols.length; i++) {
        header.push(`torch ×${threadList[i]}`);
        for (let r = 0; r < rows.length; r++) rows[r].push(cols[i][r].toFixed(1));
      }
    }
  }
  console.log(`GFLOP/s, best of ${TRIALS}; ${CORES} cores; Node ${process.versions.node}`);
  printTable(header, rows);
  for (const v of variants) v.k.dispose();
}

/** µs per call of the non-gemm kernels: the reference, and the wasm build on 1 and all threads. */
async function pointwiseMode() {
  const { createWasmKernels } = await import("../dist/kernels/wasm_node.js");
  const { createReferenceKernels } = await import("../dist/kernels/reference.js");
  const kernels = [
    createReferenceKernels(),
    await createWasmKernels({ threads: 1 }),
    await createWasmKernels({ threads: CORES }),
  ];
  const names = ["reference", `${kernels[1].simd} ×1`, `${kernels[2].simd} ×${CORES}`];
  const time = (fn, slow) => {
    const reps = slow ? 1 : 20;
    for (let i = 0; i < reps; i++) fn();
    let best = Number.POSITIVE_INFINITY;
    for (let t = 0; t < (slow ? 3 : TRIALS); t++) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) fn();
      best = Math.min(best, (performance.now() - t0) / reps);
    }
    return (best * 1000).toFixed(1);
  };
  const cases = [
    ...[64, 256, 512].flatMap((H) => [
      [
        `lstmCellForward 64×${H}`,
        (K) => {
          const g = K.alloc(64 * 4 * H);
          const [cp, c, h] = [K.alloc(64 * H), K.alloc(64 * H), K.alloc(64 * H)];
          fill(K.f32(), g, g + 64 * 4 * H);
          return () => K.lstmCellForward(64, H, 1, g, cp, c, h);
        },
      ],
      [
        `lstmCellBackward 64×${H}`,
        (K) => {
          const [g, dg] = [K.alloc(64 * 4 * H), K.alloc(64 * 4 * H)];
          const [cp, c, dh, dc] = [K.alloc(64 * H), K.alloc(64 * H), K.alloc(64 * H), K.alloc(64 * H)];
          fill(K.f32(), g, g + 64 * 4 * H);
          return () => K.lstmCellBackward(64, H, g, cp, c, dh, dc, dg, dc);
        },
      ],
    ]),
    ...[64, 4096].map((rows) => [
      `softmaxCrossEntropy ${rows}×259`,
      (K) => {
        const [x, d] = [K.alloc(rows * 259), K.alloc(rows * 259)];
        const [l, losses, preds] = [K.alloc(rows), K.alloc(rows), K.alloc(rows)];
        fill(K.f32(), x, x + rows * 259);
        for (let r = 0; r < rows; r++) K.i32()[l + r] = r % 259;
        return () => K.softmaxCrossEntropy(rows, 259, x, l, 1, d, losses, preds);
      },
    ]),
    [
      "adam 1.6M",
      (K) => {
        const [p, g, m, v] = [K.alloc(1.6e6), K.alloc(1.6e6), K.alloc(1.6e6), K.alloc(1.6e6)];
        return () => K.adam(1.6e6, 1e-3, 0.9, 0.999, 1e-8, p, g, m, v);
      },
    ],
    [
      "biasBackward 4096×1024",
      (K) => {
        const [d, b] = [K.alloc(4096 * 1024), K.alloc(1024)];
        return () => K.biasBackward(4096, 1024, d, b);
      },
    ],
    [
      "dropoutForward 4096×256",
      (K) => {
        const [x, y] = [K.alloc(4096 * 256), K.alloc(4096 * 256)];
        return () => K.dropoutForward(4096 * 256, 0.5, 7, x, y);
      },
    ],
    [
      "embeddingForward 4096×256",
      (K) => {
        const [ids, t, o] = [K.alloc(4096), K.alloc(259 * 256), K.alloc(4096 * 256)];
        for (let r = 0; r < 4096; r++) K.i32()[ids + r] = r % 259;
        return () => K.embeddingForward(4096, 256, ids, t, -1, o);
      },
    ],
  ];
  const rows = [];
  for (const [name, setup] of cases) {
    rows.push([
      name,
      ...kernels.map((K, i) => {
        const mk = K.mark();
        const out = time(setup(K), i === 0);
        K.release(mk);
        return out;
      }),
    ]);
  }
  console.log(`µs per call, best of ${TRIALS}; ${CORES} cores; Node ${process.versions.node}`);
  printTable(["kernel", ...names], rows);
  for (const K of kernels) K.dispose();
}

/**
 * ms per call of one layer's recurrent loop over 64 steps of 64 rows ("ragged": rows shrinking from 64 to 1
 * as (1 − s/64)², as sequences end): the per-step gemm and cell calls (lstm_steps.js, the loop before
 * lstmRecurrentForward/Backward) against the fused ops, on 1 and all threads, interleaved.
 */
async function recurrentMode() {
  const { createWasmKernels } = await import("../dist/kernels/wasm_node.js");
  const { lstmBackwardBySteps, lstmForwardBySteps } = await import("../dist/kernels/lstm_steps.js");
  const B = 64;
  const S = 64;
  const rows = {
    full: Array(S).fill(B),
    ragged: Array.from({ length: S }, (_, s) => Math.max(1, Math.round(B * (1 - s / S) ** 2))),
  };
  const out = [];
  for (const threads of [...new Set([1, CORES])]) {
    const K = await createWasmKernels({ threads });
    for (const H of [64, 256]) {
      for (const [kind, table] of Object.entries(rows)) {
        const G = 4 * H;
        const N = table.reduce((a, b) => a + b, 0);
        const wh = K.alloc(H * G);
        fill(K.f32(), wh, wh + H * G);
        const gates = K.alloc(N * G);
        const [c, h] = [K.alloc((B + N) * H), K.alloc((B + N) * H)];
        const [dh, dc, dGates] = [K.alloc(N * H), K.alloc(B * H), K.alloc(N * G)];
        const t = K.alloc(S);
        K.i32().set(table, t);
        const ops = {
          i32: K.i32,
          gemm: K.gemm,
          gemmPacked: K.gemmPacked,
          lstmCellForward: K.lstmCellForward,
          lstmCellBackward: K.lstmCellBackward,
        };
        const runs = [
          () => lstmForwardBySteps(ops, S, B, H, 1, t, wh, -1, gates, c, h),
          () => K.lstmRecurrentForward(S, B, H, 1, t, wh, -1, gates, c, h),
          () => lstmBackwardBySteps(ops, S, B, H, t, wh, gates, c, dh, dc, dGates),
          () => K.lstmRecurrentBackward(S, B, H, t, wh, gates, c, dh, dc, dGates),
        ];
        const best = runs.map(() => Number.POSITIVE_INFINITY);
        for (let trial = 0; trial < TRIALS; trial++) {
          runs.forEach((run, i) => {
            fill(K.f32(), gates, gates + N * G); // fresh pre-activations: no saturated gates
            const t0 = performance.now();
            run();
            best[i] = Math.min(best[i], performance.now() - t0);
          });
        }
        const ms = best.map((x) => x.toFixed(2));
        out.push([`${H}, ${kind}`, threads, `${ms[0]} → ${ms[1]}`, `${ms[2]} → ${ms[3]}`]);
      }
    }
    K.dispose();
  }
  console.log(
    `ms per call (per-step calls → fused), best of ${TRIALS}; ${CORES} cores; Node ${process.versions.node}`,
  );
  printTable(["H, rows", "threads", "forward", "backward"], out);
}

const raw = args.filter((a) => !a.startsWith("--"));
if (flag("raw", false)) await rawMode(raw);
else if (flag("pointwise", false)) await pointwiseMode();
else if (flag("recurrent", false)) await recurrentMode();
else await kernelsMode();
