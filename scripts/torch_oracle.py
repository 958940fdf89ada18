#!/usr/bin/env python3
"""An independent PyTorch implementation of Polyphony RNN's training step, the oracle for src/model/lstm.ts.

    /usr/bin/python3 scripts/torch_oracle.py case.json result.json

Reads initial weights (Magenta's names, TF shapes), batches and dropout seeds from case.json (written by
test/model_torch.test.ts), runs `steps` training steps in float64 and writes result.json:
  losses[s]        token-mean loss of step s (before its update)
  grads            the gradients of step 0, by weight name
  weights          the weights after the last step
  nn_lstm_loss     step 0's loss recomputed with torch.nn.LSTM per layer, through the spec §4.7 mapping

The model is written out from the spec (§4.2–§4.4), not from lstm.ts: a TF BasicLSTMCell per layer
(z = [x, h] @ kernel + bias, gates (i, j, f, o), forget bias 1.0), output dropout after every layer with
the kernels' counter-based masks (re-implemented here from the hash definition in reference.ts), a linear
layer, token-mean cross-entropy over labels >= 0, per-tensor clip_by_norm, and TF's Adam.
Needs Debian's python3-torch (apt-get install python3-torch).
"""
import json
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
M32 = 0xFFFFFFFF
V = 259
FORGET_BIAS = 1.0
BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-8


def fmix32(h):
    """MurmurHash3's finaliser on uint64 arrays holding 32-bit values."""
    h = h & M32
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & M32
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & M32
    h ^= h >> np.uint64(16)
    return h


def keep_mask(seed, n, keep):
    """1.0 where element e of a dropout call is kept: fmix32(seed * 0x9E3779B9 + e) < keep * 2^32."""
    if keep >= 1:
        return torch.ones(n)
    e = np.arange(n, dtype=np.uint64)
    x = (np.uint64(((seed & M32) * 0x9E3779B9) & M32) + e) & M32
    threshold = min(math.floor(keep * 2**32), 2**32 - 1)
    return torch.from_numpy((fmix32(x) < threshold).astype(np.float64))


def cell_name(k, what):
    return f"rnn/multi_rnn_cell/cell_{k}/basic_lstm_cell/{what}"


def one_hot_inputs(batch):
    T, B = batch["length"], batch["batch_size"]
    ids = torch.tensor(batch["inputs"]).view(T, B)
    x = torch.zeros(T, B, V)
    real = ids >= 0
    x[real] = F.one_hot(ids[real], V).to(x.dtype)  # padding (-1) stays an all-zero row
    return x


def dropout(h, k, t, case, batch):
    seeds = batch["seeds"]
    if seeds is None:
        return h
    B, H = h.shape
    # Element r*H + u of the call belongs to the sequence packed in row r (longest first): ranks[b] = r.
    mask = keep_mask(seeds[k][t], B * H, case["keep"]).view(B, H)[batch["ranks"]]
    return h * mask / case["keep"]


def loss_of(params, logits_in, batch):
    T, B = batch["length"], batch["batch_size"]
    labels = torch.tensor(batch["labels"]).view(T, B)
    logits = logits_in @ params["fully_connected/weights"] + params["fully_connected/biases"]
    real = labels >= 0
    return F.cross_entropy(logits[real], labels[real], reduction="sum") / real.sum()


def forward_cells(params, case, batch):
    """The stack of BasicLSTMCells, written step by step; returns the token-mean loss."""
    T, B = batch["length"], batch["batch_size"]
    layer_in = one_hot_inputs(batch)
    for k, H in enumerate(case["sizes"]):
        kernel, bias = params[cell_name(k, "kernel")], params[cell_name(k, "bias")]
        c = torch.zeros(B, H)
        h = torch.zeros(B, H)
        outs = []
        for t in range(T):
            z = torch.cat([layer_in[t], h], 1) @ kernel + bias
            i, j, f, o = z.split(H, 1)
            c = c * torch.sigmoid(f + FORGET_BIAS) + torch.sigmoid(i) * torch.tanh(j)
            h = torch.tanh(c) * torch.sigmoid(o)
            outs.append(dropout(h, k, t, case, batch))  # output dropout only: the state carries h undropped
        layer_in = torch.stack(outs)
    return loss_of(params, layer_in, batch)


def forward_nn_lstm(params, case, batch):
    """The same model through torch.nn.LSTM, one per layer, with spec §4.7's weight mapping."""
    T = batch["length"]
    layer_in = one_hot_inputs(batch)
    for k, H in enumerate(case["sizes"]):
        kernel, bias = params[cell_name(k, "kernel")], params[cell_name(k, "bias")]
        n_in = kernel.shape[0] - H
        lstm = torch.nn.LSTM(n_in, H)

        def torch_order(w):  # TF column blocks (i, j, f, o) -> PyTorch rows (i, f, g, o)
            i, j, f, o = w.split(H, -1)
            return torch.cat([i, f, j, o], -1)

        with torch.no_grad():
            lstm.weight_ih_l0.copy_(torch_order(kernel[:n_in]).T)
            lstm.weight_hh_l0.copy_(torch_order(kernel[n_in:]).T)
            i, j, f, o = bias.split(H)
            lstm.bias_ih_l0.copy_(torch.cat([i, f + FORGET_BIAS, j, o]))
            lstm.bias_hh_l0.zero_()
        out, _ = lstm(layer_in)
        layer_in = torch.stack([dropout(out[t], k, t, case, batch) for t in range(T)])
    return loss_of(params, layer_in, batch)


def main():
    case_path, result_path = sys.argv[1], sys.argv[2]
    with open(case_path) as fh:
        case = json.load(fh)
    params = {
        t["name"]: torch.tensor(t["data"], dtype=torch.float64).view(*t["shape"]).requires_grad_(True) for t in case["weights"]
    }
    names = [t["name"] for t in case["weights"]]
    m = {n: torch.zeros_like(params[n]) for n in names}
    v = {n: torch.zeros_like(params[n]) for n in names}
    result = {"losses": []}
    with torch.no_grad():
        result["nn_lstm_loss"] = forward_nn_lstm(params, case, case["batches"][0]).item()
    for s in range(case["steps"]):
        batch = case["batches"][s % len(case["batches"])]
        loss = forward_cells(params, case, batch)
        grads = torch.autograd.grad(loss, [params[n] for n in names])
        result["losses"].append(loss.item())
        if s == 0:
            result["grads"] = {n: g.flatten().tolist() for n, g in zip(names, grads)}
        t = s + 1
        lr_t = case["learning_rate"] * math.sqrt(1 - BETA2**t) / (1 - BETA1**t)
        with torch.no_grad():
            for n, g in zip(names, grads):
                norm = g.norm()
                if case["clip_norm"] > 0 and norm > case["clip_norm"]:  # tf_slim: clip_by_norm per tensor
                    g = g * case["clip_norm"] / norm
                m[n].mul_(BETA1).add_((1 - BETA1) * g)
                v[n].mul_(BETA2).add_((1 - BETA2) * g * g)
                params[n] -= lr_t * m[n] / (v[n].sqrt() + EPSILON)
    result["weights"] = {n: params[n].detach().flatten().tolist() for n in names}
    with open(result_path, "w") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main()
