using System.IO.Compression;
using RnnNotebooks.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Platform;

public class TorchRuntimeTests
{
    [Fact]
    public void Lstm_ForwardBackwardAndAdamStep_ChangeTheWeights()
    {
        torch.manual_seed(1);
        using var lstm = nn.LSTM(inputSize: 3, hiddenSize: 5, numLayers: 2);
        using var head = nn.Linear(5, 1);
        var parameters = lstm.parameters().Concat(head.parameters()).ToList();
        using var optimizer = optim.Adam(parameters, lr: 0.01);
        var before = parameters.Select(p => p.detach().clone()).ToList();

        using var x = randn(7, 4, 3);                     // [steps, batch, features]
        var (output, hN, cN) = lstm.forward(x);           // [steps, batch, hidden]
        using var loss = head.forward(output).pow(2).mean();
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();

        Assert.Equal(new long[] { 7, 4, 5 }, output.shape);
        Assert.Equal(new long[] { 2, 4, 5 }, hN.shape);
        Assert.All(parameters, p => Assert.NotNull(p.grad));
        Assert.True(parameters.Zip(before).All(pair => !pair.First.allclose(pair.Second)),
            "every parameter tensor should move after one Adam step");
        Assert.True(double.IsFinite(loss.item<float>()));
    }

    [Fact]
    public void Prepare_LeavesNoStrongGlibcxx332Need_WhenTheSystemLacksIt()
    {
        var report = TorchRuntime.Prepare();
        Assert.SkipWhen(report.SystemHasGlibcxx332, "This system's libstdc++ (GCC 13+) has GLIBCXX_3.4.32: no fix to check.");
        foreach (var copy in report.Patched.Concat(report.AlreadyFine))
            Assert.DoesNotContain(ElfVersionNeeds.Read(copy), n => n.Version == TorchRuntime.NeededGlibcxx && !n.IsWeak);
    }

    [Fact]
    public void MakeWeak_OnPristineLibrary_MarksOnlyThatNeedAndIsIdempotent()
    {
        var nupkg = Directory.GetFiles(Path.Combine(TorchRuntime.NuGetPackagesDirectory, "torchsharp", "0.107.0"), "*.nupkg").Single();
        var dir = Directory.CreateTempSubdirectory("elf-");
        try
        {
            var lib = Path.Combine(dir.FullName, "libLibTorchSharp.so");
            using (var zip = ZipFile.OpenRead(nupkg))
                zip.GetEntry("runtimes/linux-x64/native/libLibTorchSharp.so")!.ExtractToFile(lib);

            var before = ElfVersionNeeds.Read(lib);
            Assert.Contains(before, n => n.File == "libstdc++.so.6" && n.Version == "GLIBCXX_3.4.32" && !n.IsWeak);

            Assert.True(ElfVersionNeeds.MakeWeak(lib, "GLIBCXX_3.4.32"));
            var after = ElfVersionNeeds.Read(lib);
            Assert.Equal(before.Count, after.Count);
            foreach (var (b, a) in before.Zip(after))
                Assert.Equal(b with { IsWeak = b.IsWeak || b.Version == "GLIBCXX_3.4.32" }, a);

            Assert.False(ElfVersionNeeds.MakeWeak(lib, "GLIBCXX_3.4.32"));
            Assert.Single(Directory.GetFiles(dir.FullName));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Read_TruncatedFile_SaysItIsTruncated()
    {
        var path = Path.GetTempFileName();
        try
        {
            var head = File.ReadAllBytes(TorchRuntime.Report!.Patched.Concat(TorchRuntime.Report.AlreadyFine).First())[..4096];
            File.WriteAllBytes(path, head);
            var e = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read(path));
            Assert.Contains("truncated", e.Message);
            Assert.Contains(path, e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Prepare_NeverWritesIntoTheNuGetPackageCache()
    {
        var report = TorchRuntime.Prepare();
        var nuget = Path.GetFullPath(TorchRuntime.NuGetPackagesDirectory) + Path.DirectorySeparatorChar;
        Assert.All(report.Patched, p =>
        {
            Assert.StartsWith(Path.GetFullPath(TorchRuntime.NativeCacheDirectory), p);
            Assert.DoesNotContain(nuget, p);
        });
    }

    [Fact]
    public void Notice_NamesEachFixInEffect_AndTheVariableThatTurnsItOff()
    {
        var none = new NativeReport("/lib/libstdc++.so.6", true, [], ["/app/libLibTorchSharp.so"], [], "not needed (GenuineIntel processor)");
        Assert.Null(none.Notice);

        var both = none with { Patched = ["/cache/rnn-notebooks/native/0123/libLibTorchSharp.so"], MklDispatch = "patched (MKL takes its fast kernels on this AMD processor)" };
        Assert.StartsWith("native fixes: ", both.Notice);
        Assert.Contains("/cache/rnn-notebooks/native/0123/libLibTorchSharp.so", both.Notice);
        Assert.Contains($"{TorchRuntime.GlibcxxVariable}=0 turns this off", both.Notice);
        Assert.Contains($"{MklVendorCheck.Variable}=0 turns this off", both.Notice);
        Assert.Contains("NuGet package is left as it is", both.Notice);

        var heap = none with { HeapKeepsFreedMemory = true };
        Assert.Contains("keeps freed tensor memory", heap.Notice);
        Assert.Contains($"{NativeHeap.Variable}=0 turns this off", heap.Notice);
        Assert.DoesNotContain("turns this off", none.Notice ?? "");
    }
}
