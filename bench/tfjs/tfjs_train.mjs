#!/usr/bin/env node
// One implementation of bench/train.mjs: the same model in TensorFlow.js (tfjs-core ops, autodiff by
// tf.variableGrads) on the WebAssembly backend (@tensorflow/tfjs-backend-wasm, whose .wasm files ship in
// the npm package: nothing is downloaded). Prints `RESULT {json}` as its last line. tfjs is not in the
// project's install: this folder is a package of its own, installed with `npm ci --prefix bench/tfjs`
// (bench/train.mjs skips the tfjs rows until then).
//
//   node bench/tfjs/tfjs_train.mjs --batches=FILE --layers=64,64 [--seed=1] [--stock_grad]
//
// Written the way a performance-minded tfjs user would: each layer's input projection for all time steps
// is one matMul (layer 0: one-hot × W_x; the wasm backend has no gradient kernel for gather), only
// h·W_h and the gate arithmetic run step by step; BasicLSTMCell gates (i, j, f, o), forget bias 1,
// tf.dropout(0.5) after every layer, token-mean cross-entropy over real positions, per-tensor clip by
// norm 5, tf.train.adam(1e-3). tfjs-backend-wasm runs single-threaded in Node (its multithread flag is
// off there), so --threads is reported but has no effect. The tape keeps every step's intermediates, in a
// wasm heap of at most 4 GB.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { parseFlags, printResult, readBatchFile, realTokens, timeSteps } from "../train.mjs";

const V = 259;
const flags = parseFlags(process.argv.slice(2));
const layers = String(flags.layers).split(",").map(Number);
const seed = Number(flags.seed ?? 1);
const { warmup, timed } = readBatchFile(String(flags.batches));

await tf.setBackend("wasm");
await tf.ready();

let seedCounter = seed * 1000;
const glorot = (rows, cols, fanIn, fanOut) => {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return tf.variable(tf.randomUniform([rows, cols], -limit, limit, "float32", seedCounter++));
};
const params = layers.map((H, i) => {
  const In = i === 0 ? V : layers[i - 1];
  return {
    H,
    wx: glorot(In, 4 * H, In + H, 4 * H),
    wh: glorot(H, 4 * H, In + H, 4 * H),
    b: tf.variable(tf.zeros([4 * H])),
  };
});
const fcW = glorot(layers.at(-1), V, layers.at(-1), V);
const fcB = tf.variable(tf.zeros([V]));
const optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);

// tfjs-backend-wasm's matMul with a transpose flag takes a slow path: 10× (dz·Wᵀ, 64×256×1024) to 35×
// (Xᵀ·dZ, 256×1024×4096) slower than transposing first, measured here; the stock MatMul gradient uses
// those flags, which left 3×256 at 140 tokens/s. This gradient transposes explicitly (--stock_grad: the
// stock one). `needA`: false for the one-hot input, which needs no gradient.
const matMulWith = (needA) =>
  tf.customGrad((a, b, save) => {
    save([a, b]);
    return {
      value: tf.matMul(a, b),
      gradFunc: (dy, [sa, sb]) => [
        needA ? tf.matMul(dy, tf.transpose(sb)) : tf.zerosLike(sa),
        tf.matMul(tf.transpose(sa), dy),
      ],
    };
  });
const stock = Boolean(flags.stock_grad);
const matMul = stock ? (a, b) => tf.matMul(a, b) : matMulWith(true);
const matMulConstA = stock ? matMul : matMulWith(false);

/** Token-mean loss of one batch (time-major ids, −1 padding). */
function loss(batch) {
  const { batchSize: B, length: T } = batch;
  const tokens = realTokens(batch);
  // tf.oneHot gives a zero row for −1 (padding).
  let x = tf.cast(tf.oneHot(tf.tensor1d(batch.inputs, "int32"), V), "float32"); // [T·B, V]
  for (let li = 0; li < params.length; li++) {
    const { H, wx, wh, b } = params[li];
    const proj = tf.split(tf.add((li === 0 ? matMulConstA : matMul)(x, wx), b), T, 0); // T × [B, 4H]
    let c = tf.zeros([B, H]);
    let h = tf.zeros([B, H]);
    const outs = [];
    for (let t = 0; t < T; t++) {
      const z = tf.add(proj[t], matMul(h, wh));
      const [i, j, f, o] = tf.split(z, 4, 1);
      c = tf.add(tf.mul(c, tf.sigmoid(tf.add(f, 1))), tf.mul(tf.sigmoid(i), tf.tanh(j)));
      h = tf.mul(tf.tanh(c), tf.sigmoid(o));
      outs.push(h);
    }
    x = tf.dropout(tf.concat(outs, 0), 0.5); // [T·B, H]
  }
  const logits = tf.add(matMul(x, fcW), fcB);
  const labels = tf.tensor1d(batch.labels, "int32");
  const target = tf.cast(tf.oneHot(labels, V), "float32");
  const mask = tf.cast(tf.greaterEqual(labels, 0), "float32");
  const ce = tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, target), 1));
  return tf.div(tf.sum(tf.mul(ce, mask)), Math.max(tokens, 1));
}

function trainStep(batch) {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => loss(batch));
    const clipped = {};
    for (const [name, g] of Object.entries(grads)) {
      // tf.clip_by_norm: g · 5 / max(‖g‖, 5)
      clipped[name] = tf.mul(g, tf.div(5, tf.maximum(tf.norm(g), 5)));
    }
    optimizer.applyGradients(clipped);
    return value.dataSync()[0];
  });
}

printResult({
  ...timeSteps(trainStep, warmup, timed),
  info: {
    tfjs: tf.version_core,
    backend: tf.getBackend(),
    simd: tf.env().getBool("WASM_HAS_SIMD_SUPPORT"),
    threads: 1,
    layers,
    matMulGrad: stock ? "stock" : "explicit transposes",
  },
});
process.exit(0);
