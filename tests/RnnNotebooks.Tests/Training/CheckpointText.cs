using RnnNotebooks.Training;

namespace RnnNotebooks.Tests.Training;

/// <summary>Reads and rewrites a JSON file of a saved checkpoint (a config or vocabulary), keeping the manifest's hash in
/// step, so a test of a hand-edited config reaches the reader's checks of its content rather than the checksum.</summary>
static class CheckpointText
{
    public static string Read(string dir, string name) =>
        File.ReadAllText(Checkpoint.PathOf(dir, name) ?? throw new FileNotFoundException($"{dir}: the checkpoint lists no {name}."));

    public static void Write(string dir, string name, string text) =>
        Checkpoint.Replace(dir, new Dictionary<string, Action<BinaryWriter>> { [name] = Checkpoint.Text(text) });

    public static void Edit(string dir, string name, Func<string, string> edit) => Write(dir, name, edit(Read(dir, name)));
}
