using System.CommandLine;
using RnnNotebooks.Cli.Packing;
using RnnNotebooks.Data;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn pack DIR</c>: an offline pack for lab machines without internet (<see cref="PackBuilder"/>).</summary>
static class PackCommand
{
    public static Command Build()
    {
        var directory = new Argument<string>("DIR") { Description = "the folder to write (new or empty, unless --force)" };
        // No default value in the option: the help and docs/cli.md would then show the system they were made on.
        var os = CliOptions.OneOf(new Option<string>("--os") { Description = "the system of the machines that use the pack (default: this one)" },
            [.. PackBuilder.Systems]);
        var datasets = new Option<string[]>("--datasets")
        {
            Description = "the datasets to include, by name (rnn data list), or none (default: every dataset)",
            HelpName = "NAME",
            // One name list per --datasets (comma-separated): with several tokens per option, DIR would be read as a name.
            AllowMultipleArgumentsPerToken = false,
        };
        var force = CliOptions.Flag("--force", "replace DIR when it is not empty");
        var command = new Command("pack", "Write a folder for machines without internet: datasets, NuGet packages, notebook tools, image features.")
        {
            directory, os, datasets, force,
        };
        command.SetAction(p => Run(p.GetValue(directory)!, p.GetValue(os) ?? PackBuilder.CurrentSystem, DatasetNames(p.GetValue(datasets)), p.GetValue(force)));
        return command;
    }

    /// <summary>Null (every dataset) when the option is absent; names may also be given comma-separated.</summary>
    static IReadOnlyList<string>? DatasetNames(string[]? values)
    {
        if (values is null || values.Length == 0) return null;
        var names = values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (names.Count == 1 && names[0] == "none") return [];
        foreach (var name in names.Where(n => !Datasets.Names.Contains(n)))
            throw new UsageException($"--datasets {name}: no such dataset; choose from {string.Join(", ", Datasets.Names)}, or none.");
        return names.Distinct().ToList();
    }

    static int Run(string directory, string os, IReadOnlyList<string>? datasets, bool force)
    {
        var result = PackBuilder.Build(new PackOptions(directory, os, datasets, force), line => Console.Error.WriteLine($"  {line}"));
        Console.WriteLine($"{result.Directory}: {result.Files} files, {result.Bytes / 1e6:N0} MB for {os}: " +
            $"{result.Datasets.Count} dataset(s), {result.Packages.Count} packages, {result.Tools.Count} tool(s), {result.Features.Count} feature cache(s).");
        Console.WriteLine($"Copy it to the lab machines, set {OfflinePack.Variable} to it there, and follow its README.txt.");
        return 0;
    }
}
