#!/usr/bin/python3
"""Two implementations of bench/train.mjs: Magenta's Polyphony RNN as a PyTorch user writes it.

    /usr/bin/python3 bench/torch_train.py --batches=FILE --layers=256,256,256 [--threads=2] [--seed=1]
    /usr/bin/python3 bench/torch_train.py --batches=FILE --layers=256,256,256 --packed

Debian's python3-torch (OpenBLAS). The model: one-hot inputs (259) into one nn.LSTM per layer
(time-major), nn.Dropout(0.5) after EVERY layer including the last (Magenta's DropoutWrapper; nn.LSTM's
own dropout= skips the last layer), nn.Linear(H, 259), CrossEntropyLoss(ignore_index=-1) (the token
mean over real positions), clip_grad_norm_(p, 5) per parameter (tf_slim clips each tensor), Adam(1e-3).

Padded ("torch", the default): the LSTMs run straight through the end padding (padding is at the end, so
nothing real depends on it, and its loss is ignored). Packed ("torch-packed", --packed): what a careful
PyTorch user writes instead, no arithmetic on padding: the event ids are packed by
nn.utils.rnn.pack_padded_sequence(ids, lengths, enforce_sorted=False) (sorted by length, longest first,
inside the call; the batch's rows shrink as tracks end), one-hot of the packed ids, each nn.LSTM on the
PackedSequence, dropout and the linear layer on its .data (real positions only), and the labels packed the
same way, so the loss is the same token mean over the real positions. Same model, initial weights and
optimizer either way. Mind the result on long batches: Debian's torch 1.13 runs a packed LSTM on the CPU
one time step at a time (ATen's PackedLayer takes a narrow() of the packed data per step), and its backward
time grows faster than linearly with the batch's length where the padded one grows linearly (time a
--packed and a padded step on batches of a few hundred and a few thousand steps to see it); on Bach
batches the packed row can be the slower one. Both rows are reported; neither stands in for the other.

Batches come from the driver's file (bench/train.mjs: writeBatchFile). Prints `RESULT {json}` as the
last line; peak memory is this process's ru_maxrss.
"""

import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

NUM_CLASSES = 259
MAGIC = 0x424E5250


def read_batches(path):
    """The driver's batch file: int32 header, then per batch T, lengths[B], inputs[T*B], labels[T*B].

    Each batch is (inputs [T, B], labels [T, B], lengths [B]), int64 on the CPU."""
    a = np.fromfile(path, dtype="<i4")
    magic, version, B, N, W = (int(x) for x in a[:5])
    if magic != MAGIC or version != 1:
        sys.exit(f"{path}: not a batch file")
    at = 6
    batches = []
    for _ in range(N):
        T = int(a[at])
        lengths = torch.from_numpy(a[at + 1 : at + 1 + B].astype(np.int64))
        at += 1 + B
        inputs = torch.from_numpy(a[at : at + T * B].reshape(T, B).astype(np.int64))
        at += T * B
        labels = torch.from_numpy(a[at : at + T * B].reshape(T, B).astype(np.int64))
        at += T * B
        batches.append((inputs, labels, lengths))
    return batches[:W], batches[W:]


class PolyphonyRnn(nn.Module):
    def __init__(self, sizes, keep_prob=0.5):
        super().__init__()
        ins = [NUM_CLASSES] + sizes[:-1]
        self.lstms = nn.ModuleList(nn.LSTM(i, h) for i, h in zip(ins, sizes))
        self.drop = nn.Dropout(1 - keep_prob)
        self.fc = nn.Linear(sizes[-1], NUM_CLASSES)
        # TF's initialisation: Glorot-uniform over the [in + H, 4H] kernel, zero biases, forget bias 1
        # (nn.LSTM's gate order is i, f, g, o).
        for lstm, i, h in zip(self.lstms, ins, sizes):
            limit = (6 / (i + h + 4 * h)) ** 0.5
            nn.init.uniform_(lstm.weight_ih_l0, -limit, limit)
            nn.init.uniform_(lstm.weight_hh_l0, -limit, limit)
            nn.init.zeros_(lstm.bias_ih_l0)
            nn.init.zeros_(lstm.bias_hh_l0)
            with torch.no_grad():
                lstm.bias_ih_l0[h : 2 * h] = 1.0
        nn.init.xavier_uniform_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def forward(self, ids):
        """Logits [T, B, 259] of padded ids [T, B] (−1 = padding, a zero one-hot row), through the padding."""
        x = one_hot(ids)
        for lstm in self.lstms:
            x, _ = lstm(x)
            x = self.drop(x)
        return self.fc(x)

    def forward_packed(self, packed_ids):
        """Logits [N, 259] of a PackedSequence of ids, in its .data order: real positions only."""
        x = packed_ids._replace(data=one_hot(packed_ids.data))
        for lstm in self.lstms:
            x, _ = lstm(x)
            x = x._replace(data=self.drop(x.data))
        return self.fc(x.data)


def one_hot(ids):
    """One-hot float rows of event ids, any shape; −1 (padding) gives a zero row."""
    x = torch.zeros(*ids.shape, NUM_CLASSES)
    x.scatter_(-1, ids.clamp(min=0).unsqueeze(-1), (ids >= 0).float().unsqueeze(-1))
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", required=True)
    ap.add_argument("--layers", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--packed", action="store_true", help="pack_padded_sequence: no arithmetic on padding")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    sizes = [int(s) for s in args.layers.split(",")]
    warmup, timed = read_batches(args.batches)

    model = PolyphonyRnn(sizes)
    model.train()
    loss_fn = nn.CrossEntropyLoss(ignore_index=-1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    params = list(model.parameters())

    def step(inputs, labels, lengths):
        opt.zero_grad(set_to_none=True)
        if args.packed:
            # A track of length 0 (none in the driver's batches) cannot be packed: leave it out.
            keep = lengths > 0
            if not bool(keep.all()):
                inputs, labels, lengths = inputs[:, keep], labels[:, keep], lengths[keep]
            logits = model.forward_packed(pack_padded_sequence(inputs, lengths, enforce_sorted=False))
            targets = pack_padded_sequence(labels, lengths, enforce_sorted=False).data
            loss = loss_fn(logits, targets)
        else:
            logits = model(inputs)
            loss = loss_fn(logits.reshape(-1, NUM_CLASSES), labels.reshape(-1))
        loss.backward()
        for p in params:
            nn.utils.clip_grad_norm_(p, 5.0)
        opt.step()
        return loss.item()

    for batch in warmup:
        step(*batch)

    tokens = sum(int((labels >= 0).sum()) for _, labels, _ in timed)
    positions = sum(labels.numel() for _, labels, _ in timed)
    loss_sum = 0.0
    step_ms = []
    print("TIMED", flush=True)
    t0 = time.perf_counter()
    for batch in timed:
        s0 = time.perf_counter()
        loss_sum += step(*batch)
        step_ms.append((time.perf_counter() - s0) * 1000)
        print(f"STEP {step_ms[-1]}", flush=True)
    seconds = time.perf_counter() - t0

    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {
        "steps": len(timed),
        "tokens": tokens,
        "positions": positions,
        "seconds": seconds,
        "tokensPerS": tokens / seconds,
        "msPerStep": seconds * 1000 / len(timed),
        "stepMs": step_ms,
        "peakRssMB": rss_kib * 1024 / 1e6,
        "loss": loss_sum / len(timed),
        "info": {
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "layers": sizes,
            "mkldnn": torch.backends.mkldnn.is_available(),
            "packed": args.packed,
        },
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
