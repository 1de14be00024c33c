using RnnNotebooks.Data;

namespace RnnNotebooks.Text;

/// <summary>A text split for language modelling: train on <see cref="Train"/>, choose settings on
/// <see cref="Validation"/>, report on <see cref="Test"/> when the corpus has a standard one.</summary>
/// <param name="Name">Where it came from.</param>
/// <param name="Train">Training text.</param>
/// <param name="Validation">Held-out text for validation.</param>
/// <param name="Test">The standard test split, or null.</param>
/// <param name="Split">How the splits were made, in a sentence.</param>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public sealed record TextCorpus(string Name, string Train, string Validation, string? Test, string Split)
{
    /// <summary>
    /// Tiny Shakespeare: the first <paramref name="trainFraction"/> of the characters for training, the rest for
    /// validation (cut at a line break, so no line is split). There is no standard test split.
    /// </summary>
    public static TextCorpus TinyShakespeare(double trainFraction = 0.9) =>
        SplitText("tinyshakespeare", Datasets.ReadText("tinyshakespeare", "input.txt"), trainFraction);

    /// <summary>Penn Treebank in Mikolov's preprocessing: the standard train, valid and test files.</summary>
    public static TextCorpus PennTreebank() => new("ptb",
        Datasets.ReadZipText("ptb", "ptb.zip", "ptb/ptb.train.txt"),
        Datasets.ReadZipText("ptb", "ptb.zip", "ptb/ptb.valid.txt"),
        Datasets.ReadZipText("ptb", "ptb.zip", "ptb/ptb.test.txt"),
        "standard splits (ptb.train/valid/test.txt)");

    /// <summary>A UTF-8 text file of your own (read with <see cref="TextFile.ReadUtf8"/>), split like <see cref="TinyShakespeare"/>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is not UTF-8, or is empty or too short to split.</exception>
    public static TextCorpus FromFile(string path, double trainFraction = 0.9)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
            throw new FileNotFoundException($"{path}: no such file. Give a UTF-8 text file, or a dataset name (tinyshakespeare, ptb).", path);
        return SplitText(path, TextFile.ReadUtf8(path), trainFraction);
    }

    /// <summary>Splits <paramref name="text"/> into a leading training part and a trailing validation part.</summary>
    public static TextCorpus SplitText(string name, string text, double trainFraction = 0.9)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (trainFraction is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "Use a fraction strictly between 0 and 1.");
        if (string.IsNullOrWhiteSpace(text))
            throw new InvalidDataException($"{name}: the text is empty; a language model needs text to learn from.");
        var cut = (int)(text.Length * trainFraction);
        var lineBreak = text.IndexOf('\n', cut);
        if (lineBreak > 0 && lineBreak < text.Length - 1) cut = lineBreak + 1;
        if (cut < 2 || text.Length - cut < 2)
            throw new InvalidDataException($"{name}: {text.Length} characters are too few to split into training and validation text.");
        return new TextCorpus(name, text[..cut], text[cut..], null,
            $"first {trainFraction:P0} of the characters for training (cut at a line break), the last {1 - trainFraction:P0} for validation");
    }
}
