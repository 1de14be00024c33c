"""PyTorch side of `rnn bench`: the same workloads, measured the same way, one per call.

Usage: python3 bench/pytorch_reference.py '<json spec>'   (prints {"samples": [...]})
       python3 bench/pytorch_reference.py version

The C# side (src/RnnNotebooks.Bench: Workloads.cs and PyTorchReference.cs) builds the spec; keep the two in step.
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


class AdditiveAttention(nn.Module):
    """Bahdanau scores v^T tanh(W_q q + W_k k), padding masked out (Translation/Attention.cs)."""

    def __init__(self, query_size, key_size, size):
        super().__init__()
        self.query = nn.Linear(query_size, size, bias=False)
        self.key = nn.Linear(key_size, size)
        self.scorer = nn.Linear(size, 1, bias=False)

    def forward(self, query, keys, values, mask):
        scores = self.scorer(torch.tanh(keys + self.query(query).unsqueeze(1))).squeeze(-1)
        weights = scores.masked_fill(~mask, float("-inf")).softmax(-1)
        return weights.unsqueeze(1).bmm(values).squeeze(1), weights


class Seq2Seq(nn.Module):
    """Lesson 04's translation model, layer for layer as Translation/Seq2Seq.cs builds it: packed bidirectional GRU
    encoder, a bridge to the decoder's first state, a GRU cell decoder reading [word; context], additive attention,
    and a readout of tanh(combine([state; context; word]))."""

    def __init__(self, source_vocab, target_vocab, embedding, hidden, dropout=0.2):
        super().__init__()
        e, h = embedding, hidden
        self.source_embedding = nn.Embedding(source_vocab, e, padding_idx=0)
        self.encoder = nn.GRU(e, h, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * h, h)
        self.target_embedding = nn.Embedding(target_vocab, e, padding_idx=0)
        self.decoder_cell = nn.GRUCell(e + 2 * h, h)
        self.attention = AdditiveAttention(h, 2 * h, h)
        self.combine = nn.Linear(h + 2 * h + e, h)
        self.readout = nn.Linear(h, target_vocab)
        self.dropout = nn.Dropout(dropout)

    def forward(self, source, lengths, target_input):
        steps = source.shape[1]
        embedded = self.dropout(self.source_embedding(source))
        packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
        packed_outputs, final = self.encoder(packed)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(packed_outputs, batch_first=True, total_length=steps)
        hidden = torch.tanh(self.bridge(torch.cat([final[0], final[1]], 1)))
        keys = self.attention.key(outputs)
        mask = source.ne(0)
        features, weights = [], []
        for word in self.dropout(self.target_embedding(target_input)).unbind(1):
            context, w = self.attention(hidden, keys, outputs, mask)
            hidden = self.decoder_cell(torch.cat([word, context], 1), hidden)
            features.append(self.dropout(torch.tanh(self.combine(torch.cat([hidden, context, word], 1)))))
            weights.append(w)
        torch.stack(weights, 1)  # the C# Forward returns the attention maps too
        return self.readout(torch.stack(features, 1))


def masked_cross_entropy(logits, targets, mask):
    per_token = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
    weights = mask.reshape(-1).to(per_token.dtype)
    return (per_token * weights).sum() / weights.sum().clamp_min(1)


class AcousticModel(nn.Module):
    """Lesson 05's CTC model as Speech/AcousticModel.cs builds it: two 1-D convolutions (the first with stride 2),
    the padding after the first zeroed, a packed bidirectional GRU stack, dropout, linear, log_softmax."""

    def __init__(self, features, classes, channels, hidden, layers, dropout=0.15):
        super().__init__()
        self.conv1 = nn.Conv1d(features, channels, 5, stride=2, padding=2)
        self.conv2 = nn.Conv1d(channels, channels, 5, stride=1, padding=2)
        self.rnn = nn.GRU(channels, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0,
                          bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(2 * hidden, classes)

    def output_lengths(self, lengths):
        return torch.div(lengths - 1, 2, rounding_mode="floor") + 1

    def forward(self, features, lengths):
        x = F.relu(self.conv1(features.transpose(1, 2)))
        mid = self.output_lengths(lengths)
        x = x * (torch.arange(x.shape[2]).unsqueeze(0) < mid.unsqueeze(1)).float().unsqueeze(1)
        x = self.dropout(F.relu(self.conv2(x)).transpose(1, 2))
        out_lengths = self.output_lengths(lengths).clamp_max(x.shape[1])
        packed = nn.utils.rnn.pack_padded_sequence(x, out_lengths, batch_first=True, enforce_sorted=False)
        y, _ = self.rnn(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
        return F.log_softmax(self.output(self.dropout(y)), -1)


def seq2seq_rig(s):
    """The batch the C# side builds: random words, then <eos>; the decoder reads <bos> + words."""
    model = Seq2Seq(s["source_vocab"], s["vocab"], s["embedding"], s["hidden"])
    b = s["batch"]
    src_steps, tgt_steps = max(s["source_lengths"]), max(s["target_lengths"])
    source = torch.zeros(b, src_steps, dtype=torch.long)
    target_input = torch.zeros(b, tgt_steps, dtype=torch.long)
    target_output = torch.zeros(b, tgt_steps, dtype=torch.long)
    for i, (n, m) in enumerate(zip(s["source_lengths"], s["target_lengths"])):
        source[i, :n - 1] = torch.randint(4, s["source_vocab"], (n - 1,))
        source[i, n - 1] = 2
        words = torch.randint(4, s["vocab"], (m - 1,))
        target_input[i, 0] = 1
        target_input[i, 1:m] = words
        target_output[i, :m - 1] = words
        target_output[i, m - 1] = 2
    lengths = torch.tensor(s["source_lengths"])
    mask = target_output.ne(0)
    loss = lambda: masked_cross_entropy(model(source, lengths, target_input), target_output, mask)
    return model, loss, 0.002, 1.0, sum(s["target_lengths"])


def ctc_rig(s):
    model = AcousticModel(s["features"], s["vocab"], s["channels"], s["hidden"], s["layers"])
    features = nn.utils.rnn.pad_sequence([torch.randn(n, s["features"]) for n in s["frame_lengths"]], batch_first=True)
    lengths = torch.tensor(s["frame_lengths"])
    targets = torch.cat([torch.randint(1, s["vocab"], (n,)) for n in s["label_lengths"]])
    target_lengths = torch.tensor(s["label_lengths"])

    def loss():
        log_probs = model(features, lengths)
        return F.ctc_loss(log_probs.transpose(0, 1), targets, model.output_lengths(lengths), target_lengths,
                          blank=0, zero_infinity=True)
    return model, loss, 0.002, 5.0, sum(s["frame_lengths"])


def lesson_step(rig):
    """A training step of a lesson model, as the C# Trainer runs it: loss, backward, clipping, Adam."""
    def run(s):
        model, loss_fn, lr, clip, tokens = rig(s)
        opt = torch.optim.Adam(model.parameters(), lr=lr)

        def steps(n):
            for _ in range(n):
                opt.zero_grad()
                loss = loss_fn()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), clip)
                opt.step()
                loss.item()

        steps(s["warmup"])
        samples = []
        for _ in range(s["repeats"]):
            t = time.perf_counter()
            steps(s["steps_per_repeat"])
            samples.append(tokens * s["steps_per_repeat"] / (time.perf_counter() - t))
        return samples, sum(p.numel() for p in model.parameters())
    return run


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


def gemm_steps(s):
    """The products of a GRU training step that cannot be batched over time (see Workloads.cs)."""
    b, h = s["batch"], s["hidden"]
    x, w, dg = torch.randn(b, h), torch.randn(3 * h, h), torch.randn(b, 3 * h)
    wt = w.t().contiguous() if s.get("pre_transposed") else w.t()
    flops = s["layers"] * s["steps"] * 2 * (2.0 * b * h * 3 * h)

    def once():
        for _ in range(s["layers"] * s["steps"]):
            x @ wt
            dg @ w

    for _ in range(s["warmup"]):
        once()
    samples = []
    for _ in range(s["repeats"]):
        t = time.perf_counter()
        once()
        samples.append(flops / (time.perf_counter() - t) / 1e9)
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
    kinds = {"gemm": gemm, "gemm-steps": gemm_steps, "train": train, "generate": generate, "seq2seq": lesson_step(seq2seq_rig),
             "ctc": lesson_step(ctc_rig)}
    result = kinds[s["kind"]](s)
    samples, parameters = result if isinstance(result, tuple) else (result, None)
    out = {"samples": samples, "median": statistics.median(samples)}
    if parameters is not None:
        out["parameters"] = parameters
    print(json.dumps(out))


if __name__ == "__main__":
    main()
