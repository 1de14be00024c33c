"""PyTorch side of `rnn bench`: the same workloads, measured the same way, one per call.

Usage: python3 bench/pytorch_reference.py '<json spec>'   (prints {"samples": [...]})
       python3 bench/pytorch_reference.py version

The C# side (src/RnnNotebooks/Benchmarks/Bench.cs) builds the spec; keep the two in step.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ScratchLstm(nn.Module):
    """The LSTM equations step by step, as lesson 02 writes them (gate order i, f, g, o)."""

    def __init__(self, hidden, layers):
        super().__init__()
        self.cells = nn.ModuleList(nn.LSTMCell(hidden, hidden) for _ in range(layers))

    def forward(self, x, state=None):
        for cell in self.cells:
            h = c = x.new_zeros(x.shape[0], cell.hidden_size)
            outputs = []
            for xt in x.unbind(1):
                gates = xt @ cell.weight_ih.t() + cell.bias_ih + h @ cell.weight_hh.t() + cell.bias_hh
                i, f, g, o = gates.chunk(4, 1)
                c = f.sigmoid() * c + i.sigmoid() * g.tanh()
                h = o.sigmoid() * c.tanh()
                outputs.append(h)
            x = torch.stack(outputs, 1)
        return x, None


class LanguageModel(nn.Module):
    def __init__(self, cell, vocab, hidden, layers, scratch=False):
        super().__init__()
        self.embedding = nn.Embedding(vocab, hidden)
        kind = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
        self.rnn = ScratchLstm(hidden, layers) if scratch else kind(hidden, hidden, layers, batch_first=True)
        self.readout = nn.Linear(hidden, vocab)

    def forward(self, ids, state=None):
        y, state = self.rnn(self.embedding(ids), state)
        return self.readout(y), state


def gemm(s):
    n = s["hidden"]
    a, b = torch.randn(n, n), torch.randn(n, n)
    reps = max(4, s["steps_per_repeat"] * 4)
    for _ in range(s["warmup"]):
        a @ b
    samples = []
    for _ in range(s["repeats"]):
        t = time.perf_counter()
        for _ in range(reps):
            a @ b
        samples.append(2.0 * n ** 3 * reps / (time.perf_counter() - t) / 1e9)
    return samples


def train(s):
    model = LanguageModel(s["cell"], s["vocab"], s["hidden"], s["layers"], s.get("scratch", False))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    inputs = torch.randint(0, s["vocab"], (s["batch"], s["steps"]))
    targets = torch.randint(0, s["vocab"], (s["batch"], s["steps"]))

    def steps(n):
        for _ in range(n):
            opt.zero_grad()
            logits, _ = model(inputs)
            loss = F.cross_entropy(logits.reshape(-1, s["vocab"]), targets.reshape(-1))
            loss.backward()
            opt.step()
            loss.item()  # the C# trainer reads every step's loss too

    steps(s["warmup"])
    samples = []
    for _ in range(s["repeats"]):
        t = time.perf_counter()
        steps(s["steps_per_repeat"])
        samples.append(s["batch"] * s["steps"] * s["steps_per_repeat"] / (time.perf_counter() - t))
    return samples


def generate(s):
    model = LanguageModel(s["cell"], s["vocab"], s["hidden"], s["layers"]).eval()
    tokens = max(20, s["steps_per_repeat"] * 50)

    def run(n):
        token, state = torch.zeros(1, 1, dtype=torch.long), None
        t = time.perf_counter()
        for _ in range(n):
            logits, state = model(token, state)
            token = logits.argmax(-1).reshape(1, 1)
        return (time.perf_counter() - t) * 1000 / n

    with torch.no_grad():
        run(max(5, s["warmup"] * 10))
        return [run(tokens) for _ in range(s["repeats"])]


def main():
    if sys.argv[1] == "version":
        print(torch.__version__)
        return
    s = json.loads(sys.argv[1])
    torch.set_num_threads(s["threads"])
    torch.manual_seed(1)
    samples = {"gemm": gemm, "train": train, "generate": generate}[s["kind"]](s)
    print(json.dumps({"samples": samples, "median": statistics.median(samples)}))


if __name__ == "__main__":
    main()
