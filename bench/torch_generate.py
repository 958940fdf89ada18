#!/usr/bin/env python3
"""The PyTorch side of bench/generate.mjs: Polyphony RNN event generation as an eager step loop.

    /usr/bin/python3 bench/torch_generate.py        (started by bench/generate.mjs; not meant to be run alone)

A worker: reads one JSON command per line on stdin, answers one JSON line on stdout.
  {"op": "load", "model": NAME, "path": FILE}            weights (safetensors, Magenta's names, TF shapes)
  {"op": "run", "model": NAME, "variant": "math"|"cell", "threads": N, "primer": [ids], "events": E,
   "rows": R, "beam": K, "branch": B, "temperature": T, "seed": S}
                                          -> {"seconds", "sampled", "step_end", "score"}
  {"op": "score", "model": NAME, "ids": [ids], "temperature": T} -> {"score"}  (teacher-forced log-likelihood)

The generation loop is written as a PyTorch user would write it: float32, torch.no_grad(), all sequences
stepped together one event at a time, log_softmax of the tempered logits, torch.multinomial sampling, the
cumulative log-likelihood kept per sequence. "rows" independent outputs are one batch; a beam search
(K > 1 or B > 1) is Magenta's (common/beam_search.py, steps_per_iteration 1): the beam starts as K copies
of the primed sequence, every step branches each entry B times (entries repeated in order, [e0..eK-1] * B),
steps and samples all K*B, then keeps the K highest cumulative scores (stable for ties); at the end the best.

Two ways to write the LSTM step (both map the same weights; bench/generate.mjs uses math unless told):
  math  TF's BasicLSTMCell written out: z = x @ W_x + h @ W_h + b, gates (i, j, f, o), forget bias 1.0,
        layer 0's one-hot input as a row lookup in W_x
  cell  torch.nn.LSTMCell per layer with the weights reordered to (i, f, g, o), one-hot input
Needs only torch (Debian's python3-torch); the safetensors file is parsed with json + struct.
"""
import json
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F

V = 259
STEP_END = 2
FORGET_BIAS = 1.0


def cell_name(k, what):
    return f"rnn/multi_rnn_cell/cell_{k}/basic_lstm_cell/{what}"


def read_safetensors(path):
    with open(path, "rb") as fh:
        data = fh.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = bytearray(data[8 + n :])
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        assert meta["dtype"] == "F32", f"{name}: {meta['dtype']}"
        begin, end = meta["data_offsets"]
        out[name] = torch.frombuffer(body[begin:end], dtype=torch.float32).view(*meta["shape"]).clone()
    return out


class MathModel:
    """BasicLSTMCell written out with torch ops."""

    def __init__(self, w):
        self.layers = []
        k = 0
        while cell_name(k, "kernel") in w:
            kernel, bias = w[cell_name(k, "kernel")], w[cell_name(k, "bias")].clone()
            H = kernel.shape[1] // 4
            n_in = kernel.shape[0] - H
            bias[2 * H : 3 * H] += FORGET_BIAS  # TF adds it at run time; folded into the bias once
            self.layers.append((n_in, H, kernel[:n_in].contiguous(), kernel[n_in:].contiguous(), bias))
            k += 1
        self.fc_w = w["fully_connected/weights"].contiguous()
        self.fc_b = w["fully_connected/biases"].contiguous()

    def zero_state(self, rows):
        return [(torch.zeros(rows, H), torch.zeros(rows, H)) for _, H, _, _, _ in self.layers]

    def step(self, ids, state):
        """ids: LongTensor[rows] -> logits [rows, V], new state."""
        x = None
        new = []
        for k, (_, H, w_x, w_h, b) in enumerate(self.layers):
            c, h = state[k]
            if k == 0:
                z = torch.addmm(w_x[ids] + b, h, w_h)  # one-hot @ W_x is a row lookup
            else:
                z = torch.addmm(torch.addmm(b, x, w_x), h, w_h)
            i, j, f, o = z.split(H, 1)
            c = c * torch.sigmoid(f) + torch.sigmoid(i) * torch.tanh(j)
            h = torch.tanh(c) * torch.sigmoid(o)
            new.append((c, h))
            x = h
        return torch.addmm(self.fc_b, x, self.fc_w), new


class CellModel:
    """torch.nn.LSTMCell per layer, spec §4.7's mapping (TF blocks i, j, f, o -> PyTorch i, f, g, o)."""

    def __init__(self, w):
        self.cells = []
        k = 0
        while cell_name(k, "kernel") in w:
            kernel, bias = w[cell_name(k, "kernel")], w[cell_name(k, "bias")]
            H = kernel.shape[1] // 4
            n_in = kernel.shape[0] - H

            def reorder(t):
                i, j, f, o = t.split(H, -1)
                return torch.cat([i, f, j, o], -1)

            cell = torch.nn.LSTMCell(n_in, H)
            with torch.no_grad():
                cell.weight_ih.copy_(reorder(kernel[:n_in]).T)
                cell.weight_hh.copy_(reorder(kernel[n_in:]).T)
                i, j, f, o = bias.split(H)
                cell.bias_ih.copy_(torch.cat([i, f + FORGET_BIAS, j, o]))
                cell.bias_hh.zero_()
            cell.eval()
            self.cells.append((H, cell))
            k += 1
        self.fc = torch.nn.Linear(self.cells[-1][0], V)
        with torch.no_grad():
            self.fc.weight.copy_(w["fully_connected/weights"].T)
            self.fc.bias.copy_(w["fully_connected/biases"])
        self.fc.eval()

    def zero_state(self, rows):
        return [(torch.zeros(rows, H), torch.zeros(rows, H)) for H, _ in self.cells]

    def step(self, ids, state):
        x = F.one_hot(ids, V).float()
        new = []
        for k, (_, cell) in enumerate(self.cells):
            c, h = state[k]
            h, c = cell(x, (h, c))
            new.append((c, h))
            x = h
        return self.fc(x), new


def take(state, idx):
    return [(c.index_select(0, idx), h.index_select(0, idx)) for c, h in state]


def generate(model, primer, events, rows, beam, branch, temperature, gen):
    """Returns (best sequence's ids, its score, number of sampled events, STEP_END count of the outputs)."""
    width = rows * beam * branch  # sequences stepped together
    total = len(primer) + events
    seqs = torch.empty(width, total, dtype=torch.long)
    seqs[:, : len(primer)] = torch.tensor(primer)
    scores = torch.zeros(width)
    state = model.zero_state(width)
    # The primer: every position predicts an event that is already known; its likelihood counts.
    for p in range(len(primer) - 1):
        logits, state = model.step(seqs[:, p], state)
        lp = torch.log_softmax(logits / temperature, 1)
        scores += lp.gather(1, seqs[:, p + 1 : p + 2]).squeeze(1)
    searching = beam > 1 or branch > 1
    if searching:  # row r = copy b of entry e: the beam is [e0 .. eK-1] * B (identical at first)
        order = torch.arange(beam).repeat(branch)
    for t in range(len(primer) - 1, total - 1):
        logits, state = model.step(seqs[:, t], state)
        lp = torch.log_softmax(logits / temperature, 1)
        nxt = torch.multinomial(lp.exp(), 1, generator=gen)
        scores += lp.gather(1, nxt).squeeze(1)
        seqs[:, t + 1] = nxt.squeeze(1)
        if searching and t + 1 < total - 1:
            # Prune to the top K by cumulative score (stable), then branch: rows kept[order].
            kept = torch.sort(scores, descending=True, stable=True).indices[:beam]
            idx = kept[order]
            seqs, scores, state = seqs.index_select(0, idx), scores.index_select(0, idx), take(state, idx)
    best = int(torch.sort(scores, descending=True, stable=True).indices[0]) if searching else 0
    outputs = seqs[best : best + 1] if searching else seqs
    step_ends = int((outputs[:, len(primer) :] == STEP_END).sum())
    return seqs[best].tolist(), float(scores[best]), width * events, step_ends


def teacher_forced_score(model, ids, temperature):
    seq = torch.tensor(ids).view(1, -1)
    state = model.zero_state(1)
    score = 0.0
    for p in range(len(ids) - 1):
        logits, state = model.step(seq[:, p], state)
        score += float(torch.log_softmax(logits / temperature, 1)[0, ids[p + 1]])
    return score


def main():
    torch.set_num_threads(os.cpu_count() or 1)
    torch.set_grad_enabled(False)
    models = {}
    reply = lambda obj: print(json.dumps(obj), flush=True)  # noqa: E731
    reply({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()})
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            if cmd["op"] == "load":
                w = read_safetensors(cmd["path"])
                models[cmd["model"]] = {"math": MathModel(w), "cell": CellModel(w)}
                reply({"ok": True})
            elif cmd["op"] == "run":
                model = models[cmd["model"]][cmd["variant"]]
                torch.set_num_threads(cmd.get("threads") or os.cpu_count() or 1)
                gen = torch.Generator().manual_seed(cmd["seed"])
                t0 = time.perf_counter()
                _, score, sampled, step_ends = generate(
                    model, cmd["primer"], cmd["events"], cmd["rows"], cmd["beam"], cmd["branch"],
                    cmd["temperature"], gen,
                )
                seconds = time.perf_counter() - t0
                reply({"seconds": seconds, "sampled": sampled, "step_end": step_ends, "score": score})
            elif cmd["op"] == "score":
                reply({"score": teacher_forced_score(models[cmd["model"]][cmd.get("variant", "math")], cmd["ids"], cmd["temperature"])})
            else:
                reply({"error": f"unknown op {cmd['op']}"})
        except Exception as e:  # the driver prints it and stops
            reply({"error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
