using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Models;

/// <summary>Shape of a <see cref="SequenceRnn"/>.</summary>
/// <param name="Cell"><see cref="RecurrentCell.Lstm"/> or <see cref="RecurrentCell.Gru"/>.</param>
/// <param name="InputSize">Features per input step.</param>
/// <param name="HiddenSize">Size of every cell's state.</param>
/// <param name="NumLayers">Stacked layers; layer k+1 reads the outputs of layer k.</param>
/// <param name="Bidirectional">Run a second cell per layer from the last step to the first and concatenate.</param>
/// <param name="BatchFirst">Input and output are <c>[batch, steps, features]</c> (else <c>[steps, batch, features]</c>).</param>
/// <param name="DType">Element type of the parameters.</param>
/// <remarks>Introduced in 02-lstm-and-gru.</remarks>
public sealed record SequenceRnnOptions(
    RecurrentCell Cell,
    int InputSize,
    int HiddenSize,
    int NumLayers = 1,
    bool Bidirectional = false,
    bool BatchFirst = true,
    ScalarType DType = ScalarType.Float32)
{
    /// <summary>1, or 2 when bidirectional.</summary>
    public int Directions => Bidirectional ? 2 : 1;
}

/// <summary>
/// A whole-sequence recurrent layer built from the scratch cells (<see cref="LstmCell"/>, <see cref="GruCell"/>):
/// stacked layers, optionally bidirectional, batch first or not — the same interface and the same numbers as
/// TorchSharp's <c>nn.LSTM</c> / <c>nn.GRU</c> once the weights are copied with <see cref="CopyFrom"/>
/// (without dropout between layers).
/// </summary>
/// <remarks>
/// Output: <c>[batch, steps, directions · hidden]</c> (batch first), the forward direction's h in the first
/// <c>hidden</c> features, the backward direction's in the rest. It runs step by step in C#, so it is many
/// times slower than the fused layers: use it to read the gates, use <c>nn.LSTM</c> to train.
/// state_dict keys: <c>cells.{k}.weightIh</c>, … with k = layer · directions + direction.
/// Introduced in 02-lstm-and-gru.
/// </remarks>
public sealed class SequenceRnn : nn.Module<Tensor, RecurrentState?, (Tensor Output, RecurrentState State)>
{
    private readonly ModuleList<nn.Module> cells;

    /// <summary>Creates the layers with PyTorch's default initialisation, from torch's generator.</summary>
    public SequenceRnn(SequenceRnnOptions options) : base(nameof(SequenceRnn))
    {
        if (options.Cell is not (RecurrentCell.Lstm or RecurrentCell.Gru))
            throw new ArgumentException(
                $"SequenceRnn builds LSTM and GRU layers; got {options.Cell}. For the vanilla cell use nn.RNN or ScratchRnn (lesson 01).",
                nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.NumLayers, 1);
        Options = options;
        cells = new ModuleList<nn.Module>();
        for (var layer = 0; layer < options.NumLayers; layer++)
        {
            var input = layer == 0 ? options.InputSize : options.Directions * options.HiddenSize;
            for (var d = 0; d < options.Directions; d++)
                cells.Add(options.Cell == RecurrentCell.Lstm
                    ? new LstmCell(input, options.HiddenSize, options.DType)
                    : new GruCell(input, options.HiddenSize, options.DType));
        }
        RegisterComponents();
    }

    /// <summary>The shape this network was created with.</summary>
    public SequenceRnnOptions Options { get; }

    /// <summary>The cell of one layer and direction (0 forward, 1 backward).</summary>
    public nn.Module Cell(int layer, int direction = 0) => cells[layer * Options.Directions + direction];

    /// <summary>
    /// Runs every layer over the sequence. Returns the top layer's outputs and the final state of every layer
    /// and direction (for the backward direction, the state after it read the first step).
    /// </summary>
    /// <param name="input"><c>[batch, steps, input]</c> (or <c>[steps, batch, input]</c> when not batch first).</param>
    /// <param name="state">Initial state (zeros if null), shaped as <see cref="RecurrentState"/> says.</param>
    public override (Tensor Output, RecurrentState State) forward(Tensor input, RecurrentState? state)
    {
        var o = Options;
        if (input.dim() != 3 || input.shape[2] != o.InputSize)
            throw new ArgumentException(
                $"Expected input of shape [{(o.BatchFirst ? "batch, steps" : "steps, batch")}, {o.InputSize}], got " +
                $"[{string.Join(", ", input.shape)}].", nameof(input));
        using var scope = NewDisposeScope();
        var x = o.BatchFirst ? input : input.transpose(0, 1);                         // [batch, steps, input]
        var batch = x.shape[0];
        var layerCount = o.NumLayers * o.Directions;
        var h0 = state?.H.unbind(0) ?? Enumerable.Range(0, layerCount).Select(_ => zeros(batch, o.HiddenSize, dtype: x.dtype)).ToArray();
        var c0 = o.Cell == RecurrentCell.Lstm
            ? state?.C?.unbind(0) ?? Enumerable.Range(0, layerCount).Select(_ => zeros(batch, o.HiddenSize, dtype: x.dtype)).ToArray()
            : null;
        if (h0.Length != layerCount || (o.Cell == RecurrentCell.Lstm && c0!.Length != layerCount))
            throw new ArgumentException(
                $"Expected an initial state of [{layerCount}, batch, {o.HiddenSize}] (layers × directions first)" +
                (o.Cell == RecurrentCell.Lstm ? " for both H and C" : "") + ".", nameof(state));

        var steps = x.unbind(1);                                                      // steps × [batch, features]
        var finalH = new Tensor[layerCount];
        var finalC = new Tensor[layerCount];
        for (var layer = 0; layer < o.NumLayers; layer++)
        {
            var perDirection = new Tensor[o.Directions][];
            for (var d = 0; d < o.Directions; d++)
            {
                var k = layer * o.Directions + d;
                var (outputs, h, c) = Run(cells[k], steps, h0[k], c0?[k], reverse: d == 1);
                perDirection[d] = outputs;
                finalH[k] = h;
                if (c is not null) finalC[k] = c;
            }
            steps = o.Directions == 1
                ? perDirection[0]
                : [.. perDirection[0].Zip(perDirection[1], (f, b) => cat([f, b], dim: 1))];
        }

        var output = stack(steps, dim: 1);                                            // [batch, steps, directions·hidden]
        if (!o.BatchFirst) output = output.transpose(0, 1);
        var result = new RecurrentState(stack(finalH), o.Cell == RecurrentCell.Lstm ? stack(finalC) : null);
        scope.MoveToOuter(output, result.H);
        if (result.C is not null) scope.MoveToOuter(result.C);
        return (output, result);
    }

    static (Tensor[] Outputs, Tensor H, Tensor? C) Run(nn.Module cell, Tensor[] steps, Tensor h, Tensor? c, bool reverse)
    {
        var outputs = new Tensor[steps.Length];
        for (var i = 0; i < steps.Length; i++)
        {
            var t = reverse ? steps.Length - 1 - i : i;
            if (cell is LstmCell lstm) (h, c) = lstm.call(steps[t], (h, c!));
            else h = ((GruCell)cell).call(steps[t], h);
            outputs[t] = h;
        }
        return (outputs, h, c);
    }

    /// <summary>
    /// Copies the weights of TorchSharp's <c>nn.LSTM</c> or <c>nn.GRU</c> with the same shape:
    /// <c>weight_ih_l{k}</c> → layer k's forward cell <c>weightIh</c>, <c>weight_ih_l{k}_reverse</c> → its backward
    /// cell, and likewise <c>weight_hh</c>, <c>bias_ih</c>, <c>bias_hh</c>. Both use the same gate order, so the
    /// tensors copy unchanged.
    /// </summary>
    /// <exception cref="ArgumentException">A parameter is missing or has another shape (another cell type or size).</exception>
    public void CopyFrom(nn.Module fused)
    {
        var source = fused.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var expected = new List<string>();
        using var noGrad = no_grad();
        for (var layer = 0; layer < Options.NumLayers; layer++)
        {
            for (var d = 0; d < Options.Directions; d++)
            {
                var suffix = $"_l{layer}" + (d == 1 ? "_reverse" : "");
                var own = cells[layer * Options.Directions + d].named_parameters().ToDictionary(p => p.name, p => p.parameter);
                foreach (var (theirs, mine) in new[] { ("weight_ih", "weightIh"), ("weight_hh", "weightHh"), ("bias_ih", "biasIh"), ("bias_hh", "biasHh") })
                {
                    var name = theirs + suffix;
                    expected.Add(name);
                    if (!source.TryGetValue(name, out var from))
                        throw new ArgumentException(
                            $"The module has no parameter '{name}'. Expected an nn.{Options.Cell.ToString().ToUpperInvariant()} with " +
                            $"{Options.NumLayers} layer(s){(Options.Bidirectional ? ", bidirectional" : "")} and bias; it has: " +
                            $"{string.Join(", ", source.Keys)}.", nameof(fused));
                    var to = own[mine];
                    if (!from.shape.SequenceEqual(to.shape))
                        throw new ArgumentException(
                            $"{name} has shape [{string.Join(", ", from.shape)}], this network's {mine} [{string.Join(", ", to.shape)}]. " +
                            $"Create the SequenceRnn with the same cell type, input and hidden sizes as the module.", nameof(fused));
                    to.copy_(from);
                }
            }
        }
        if (source.Keys.Except(expected).FirstOrDefault() is { } extra)
            throw new ArgumentException(
                $"The module has a parameter '{extra}' this network has no place for: it has more layers or directions.", nameof(fused));
    }
}
