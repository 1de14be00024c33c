using RnnNotebooks.Data;

namespace RnnNotebooks.Cli.Packing;

/// <summary>The README.txt of a pack: what is in it and the commands a lab machine runs, in its system's shell.</summary>
static class PackReadme
{
    public static string Text(string os, IReadOnlyList<string> datasets, int packages, IReadOnlyList<PackageId> tools, IReadOnlyList<string> features)
    {
        var windows = os == "win-x64";
        var pack = windows ? "$env:RNN_PACK" : "$RNN_PACK";
        var set = windows ? """$env:RNN_PACK = "D:\rnn-pack"        # this session; `setx RNN_PACK D:\rnn-pack` keeps it for new ones"""
            : $"export RNN_PACK={(os == "osx-arm64" ? "/Volumes/USB/rnn-pack" : "/media/usb/rnn-pack")}    # or wherever the folder is; add it to ~/.profile to keep it";
        var then = windows ? ";" : " &&";   // Windows PowerShell 5 has no &&
        var check = os switch
        {
            "linux-x64" => "  cd \"$RNN_PACK\" && sha256sum -c --quiet SHA256SUMS",
            "osx-arm64" => "  cd \"$RNN_PACK\" && shasum -a 256 -c --quiet SHA256SUMS",
            _ => "  (SHA256SUMS lists the SHA-256 of every file; PowerShell's Get-FileHash computes one.)",
        };
        var kernel = tools.FirstOrDefault(t => t.Id.Equals("Microsoft.dotnet-interactive", StringComparison.OrdinalIgnoreCase));
        var kernelLine = kernel is null
            ? "  (This pack has no Jupyter kernel tool: it was not installed where the pack was made.)"
            : $"  dotnet tool install -g Microsoft.dotnet-interactive --version {kernel.Version} --configfile \"{pack}/nuget.config\"";
        var title = $"RnnNotebooks offline pack for {os}";
        return $"""
            {title}
            {new string('=', title.Length)}

            Everything a machine without internet needs to run the course, made by `rnn pack`:

              {OfflinePack.DatasetsFolder}/     verified datasets: {(datasets.Count == 0 ? "none" : string.Join(", ", datasets))}
              {OfflinePack.NuGetFolder}/        {packages} NuGet packages (TorchSharp with libtorch, Plotly.NET, ...) and the
                            notebook tools ({string.Join(", ", tools)}), as a local package feed
              {OfflinePack.FeaturesFolder}/     lesson 06's image features: {(features.Count == 0 ? "none (lesson 06 computes them on first run)" : string.Join(", ", features))}
              nuget.config  that feed as the only package source
              pack.json     what is in the pack; SHA256SUMS: the SHA-256 of every file

            Copy this folder as it is (to a USB stick, a share, or each machine's disk). Each machine also needs the
            .NET 10 SDK and a copy of the course's repository. The course's docs/offline.md explains every step.

            On each machine
            ---------------
            1. Point the course at the pack (in every terminal you use, or once for good):
                 {set}
               The course then reads the datasets and image features from the pack, and `dotnet build`, `dotnet test`
               and `dotnet run notebooks/NN-name.cs` restore NuGet packages from the pack's feed only.
            2. Check the copy (optional):
              {check}
            3. In the course's folder, install the notebook runner and build the library:
                 dotnet tool restore --configfile "{pack}/nuget.config"
                 dotnet build src/RnnNotebooks
            4. Run a lesson:
                 dotnet run notebooks/00-getting-started.cs          (the lesson as a program)
                 cd notebooks{then} dotnet repl --run 00-getting-started.ipynb --exit-after-run
            5. For notebooks in VS Code or Jupyter, whose kernel restores packages with the user's NuGet settings, add the
               pack's feed as a source and, on a machine without internet, turn nuget.org off (`enable` turns it back on):
                 dotnet nuget add source "{pack}/nuget" --name rnn-pack
                 dotnet nuget disable source nuget.org
               The Jupyter kernel tool, if you use Jupyter:
               {kernelLine}

            """;
    }
}
