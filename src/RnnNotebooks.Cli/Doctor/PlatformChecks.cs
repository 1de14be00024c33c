using System.Runtime.InteropServices;
using RnnNotebooks.Platform;

namespace RnnNotebooks.Cli.Doctor;

/// <summary>The operating system (<c>linux</c>, <c>win</c>, <c>osx</c>), the architecture this process runs as, and
/// the hardware's (they differ under emulation: x64 .NET on an Arm machine).</summary>
public sealed record MachineInfo(string Os, Architecture Process, Architecture Hardware)
{
    /// <summary>The runtime identifier NuGet packages are made for, e.g. <c>linux-x64</c>.</summary>
    public string Rid => $"{Os}-{Process.ToString().ToLowerInvariant()}";
}

/// <summary>Whether TorchSharp's native libraries can load here: platform, C library and C++ runtime.</summary>
public static class PlatformChecks
{
    /// <summary>The platforms TorchSharp-cpu 0.107.0 ships libtorch for (the dependencies of the <c>libtorch-cpu</c>
    /// 2.10.0 package); TorchSharp's own win-arm64 library has no libtorch to load.</summary>
    public static readonly IReadOnlyList<string> SupportedRids = ["linux-x64", "win-x64", "osx-arm64"];

    /// <summary>What <c>libLibTorchSharp.so</c> of TorchSharp 0.107.0 needs from the C and C++ runtimes, for when the
    /// file itself cannot be read (not restored yet). The GLIBCXX_3.4.32 need is one the course marks weak.</summary>
    public static readonly IReadOnlyList<VersionNeed> KnownNeeds =
    [
        new("libc.so.6", "GLIBC_2.34", false),
        new("libstdc++.so.6", "GLIBCXX_3.4.30", false),
        new("libstdc++.so.6", "CXXABI_1.3.13", false),
        new("libstdc++.so.6", TorchRuntime.NeededGlibcxx, false),
    ];

    const string SetupPage = "docs/setup.md";

    public static Check Platform(MachineInfo m)
    {
        const string name = "platform";
        var shipped = $"TorchSharp-cpu 0.107.0 ships libtorch for {string.Join(", ", SupportedRids)} only";
        if (SupportedRids.Contains(m.Rid))
            return Check.Ok(name, $"{m.Rid}: {shipped}.");
        if (m.Os == "osx" && m.Process == Architecture.X64 && m.Hardware == Architecture.Arm64)
            return Check.Fail(name, $"osx-x64: this process runs as x64 under Rosetta; {shipped}.",
                "install the Arm64 (Apple silicon) .NET SDK and run the course with it.");
        var (what, fix) = m.Rid switch
        {
            "osx-x64" => ("macOS on an Intel processor", $"use a Linux x64, Windows x64 or Apple silicon machine ({SetupPage})."),
            "win-arm64" => ("Windows on Arm", $"use an x64 machine; x64 .NET under Windows' emulation is untested ({SetupPage})."),
            "linux-arm64" => ("Linux on Arm (e.g. a devcontainer on Apple silicon without the amd64 pin)",
                $"on an Apple silicon Mac run the devcontainer, which pins linux/amd64 and runs under emulation, or the course natively on macOS ({SetupPage})."),
            _ => (m.Rid, $"use a Linux x64, Windows x64 or Apple silicon machine ({SetupPage})."),
        };
        return Check.Fail(name, $"{m.Rid} ({what}): {shipped}.", fix);
    }

    /// <summary>The GNU C library against the <c>GLIBC_</c> versions TorchSharp's native library needs (Linux only).</summary>
    /// <param name="glibc">The C library's version (<c>gnu_get_libc_version</c>), or null where it is not glibc.</param>
    /// <param name="needs">What TorchSharp's native library needs.</param>
    public static Check Glibc(string? glibc, IReadOnlyList<VersionNeed> needs)
    {
        const string name = "glibc";
        var needed = Highest(needs, "GLIBC_");
        if (glibc is null)
            return Check.Fail(name, "the C library is not GNU libc (musl, as on Alpine?); libtorch is built for glibc.",
                $"use a glibc distribution: Ubuntu 22.04 or newer, Debian 12 or newer, or the devcontainer ({SetupPage}).");
        if (needed is null || Compare(glibc, needed["GLIBC_".Length..]) >= 0)
            return Check.Ok(name, $"glibc {glibc}" + (needed is null ? "." : $"; TorchSharp's native library needs {needed}."));
        return Check.Fail(name, $"glibc {glibc}; TorchSharp's native library needs {needed} (Ubuntu 20.04 has 2.31).",
            $"use Ubuntu 22.04 or newer, Debian 12 or newer, or the devcontainer ({SetupPage}#old-linux-lab-images).");
    }

    /// <summary>The C++ runtime (libstdc++) against the <c>GLIBCXX_</c>/<c>CXXABI_</c> versions TorchSharp needs.</summary>
    /// <param name="provided">The version names the loaded libstdc++ defines, or null where none was found.</param>
    /// <param name="needs">TorchSharp's needs; weak ones and, unless <paramref name="fixOff"/>, <see cref="TorchRuntime.NeededGlibcxx"/>
    /// (which the course marks weak in a copy) may be missing.</param>
    /// <param name="fixOff">Whether <c>RNN_GLIBCXX_FIX=0</c> turned that fix off.</param>
    public static Check LibStdCxx(IReadOnlySet<string>? provided, IReadOnlyList<VersionNeed> needs, bool fixOff)
    {
        const string name = "libstdc++";
        if (provided is null)
            return Check.Fail(name, "no libstdc++.so.6 found; TorchSharp's native library is C++.",
                "install the system's C++ runtime (Debian/Ubuntu: apt-get install libstdc++6).");
        var cxx = needs.Where(n => n.File.StartsWith("libstdc++", StringComparison.Ordinal) && !n.IsWeak && !provided.Contains(n.Version)).ToList();
        var has = Highest(provided.Select(v => new VersionNeed("libstdc++.so.6", v, false)).ToList(), "GLIBCXX_") ?? "no GLIBCXX version";
        var patchable = cxx.Where(n => n.Version == TorchRuntime.NeededGlibcxx && !fixOff).ToList();
        var missing = cxx.Except(patchable).ToList();
        if (missing.Count > 0)
            return Check.Fail(name, $"libstdc++ goes up to {has}; TorchSharp's native library needs {string.Join(", ", missing.Select(n => n.Version))}" +
                (fixOff && missing.Any(n => n.Version == TorchRuntime.NeededGlibcxx) ? $" ({TorchRuntime.GlibcxxVariable}=0 turned the course's fix off)." : "."),
                fixOff && missing.All(n => n.Version == TorchRuntime.NeededGlibcxx)
                    ? $"unset {TorchRuntime.GlibcxxVariable}."
                    : $"use a system with libstdc++ from GCC 12 or newer (Ubuntu 22.04+, Debian 12+) or the devcontainer ({SetupPage}#old-linux-lab-images).");
        return Check.Ok(name, $"libstdc++ goes up to {has}" + (patchable.Count > 0
            ? $"; TorchSharp's {TorchRuntime.NeededGlibcxx} need is marked weak in a copy in the course's cache (docs/troubleshooting.md)."
            : "."));
    }

    /// <summary>TorchSharp loaded in this process and a tensor computed, as the setup cell does first.</summary>
    public static Check Torch(Func<string> load)
    {
        try
        {
            return Check.Ok("torch", load());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Check.Fail("torch", $"TorchSharp did not load: {e.GetType().Name}: {e.Message.Split('\n')[0]}",
                "docs/troubleshooting.md lists the known causes; run rnn doctor again after fixing the checks above.");
        }
    }

    /// <summary>Total memory: lesson 05's training alone reaches 1.2–1.5 GB, and the notebook kernel and editor come on top.</summary>
    public static Check Memory(long totalBytes)
    {
        const string name = "memory";
        var gb = totalBytes / 1e9;
        if (gb < 2) return Check.Fail(name, $"{gb:F1} GB of memory; training lesson 05 alone takes up to 1.5 GB.", $"use a machine with 4 GB or more ({SetupPage}).");
        if (gb < 4) return Check.Warn(name, $"{gb:F1} GB of memory; lessons 05 and 06 may swap.", "close other programs while they train; 8 GB is comfortable.");
        return Check.Ok(name, $"{gb:F1} GB of memory.");
    }

    /// <summary>The highest need of a family (<c>GLIBC_</c>, <c>GLIBCXX_</c>), e.g. <c>GLIBC_2.34</c>, or null.</summary>
    static string? Highest(IReadOnlyList<VersionNeed> needs, string prefix) =>
        needs.Select(n => n.Version)
            .Where(v => v.StartsWith(prefix, StringComparison.Ordinal) && char.IsAsciiDigit(v[prefix.Length..].FirstOrDefault()))
            .OrderBy(v => v[prefix.Length..], Comparer<string>.Create(Compare))
            .LastOrDefault();

    /// <summary>Compares dotted version numbers part by part (2.34 &gt; 2.4).</summary>
    internal static int Compare(string a, string b)
    {
        var (x, y) = (a.Split('.'), b.Split('.'));
        for (var i = 0; i < Math.Max(x.Length, y.Length); i++)
        {
            var p = i < x.Length && int.TryParse(x[i], out var u) ? u : 0;
            var q = i < y.Length && int.TryParse(y[i], out var v) ? v : 0;
            if (p != q) return p.CompareTo(q);
        }
        return 0;
    }
}
