using System.Runtime.InteropServices;
using RnnNotebooks.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Platform;

public class MklVendorCheckTests
{
    [Fact]
    public void Prepare_PatchesTheVendorCheckOnAmdOnly()
    {
        var report = TorchRuntime.Prepare();
        var lib = NativeLibrary.Load("libtorch_cpu.so", typeof(torch).Assembly, null);
        var amd = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64
            && MklVendorCheck.CpuVendor() == "AuthenticAMD" && Environment.GetEnvironmentVariable(MklVendorCheck.Variable) != "0";
        if (amd)
        {
            Assert.StartsWith("patched", report.MklDispatch);
            Assert.True(MklVendorCheck.AnswersIntel(lib));
        }
        else
        {
            Assert.DoesNotContain("patched", report.MklDispatch);
        }
        // Applying it again is harmless and reports the same state.
        Assert.Equal(report.MklDispatch, MklVendorCheck.Apply(lib));
    }

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData(1, 1, 1, false)]
    [InlineData(7, 13, 5, false)]
    [InlineData(70, 257, 130, false)]
    [InlineData(64, 768, 96, true)]
    [InlineData(300, 64, 1000, true)]
    public void MatrixProducts_AgreeWithADoublePrecisionLoop(int m, int k, int n, bool transposedRight)
    {
        TorchRuntime.Prepare();
        var generator = new Random(m * 1000 + n);
        float[] Values(int count) => [.. Enumerable.Range(0, count).Select(_ => (float)(generator.NextDouble() * 2 - 1))];
        var a = Values(m * k);
        var b = Values(k * n);
        using var ta = tensor(a, [m, k]);
        // The transposed case reads B through a transposed view, as Linear's weight is read.
        using var tb = transposedRight ? tensor(Transpose(b, k, n), [n, k]).t() : tensor(b, [k, n]);
        using var product = ta.matmul(tb);
        var got = product.contiguous().data<float>().ToArray();

        for (var i = 0; i < m; i++)
        for (var j = 0; j < n; j++)
        {
            double sum = 0, magnitude = 0;
            for (var p = 0; p < k; p++)
            {
                sum += (double)a[i * k + p] * b[p * n + j];
                magnitude += Math.Abs((double)a[i * k + p] * b[p * n + j]);
            }
            Assert.True(Math.Abs(got[i * n + j] - sum) <= 1e-5 * magnitude + 1e-6,
                $"C[{i},{j}] = {got[i * n + j]}, the double-precision loop gives {sum}");
        }
    }

    static float[] Transpose(float[] b, int k, int n)
    {
        var t = new float[b.Length];
        for (var p = 0; p < k; p++)
        for (var j = 0; j < n; j++)
            t[j * k + p] = b[p * n + j];
        return t;
    }
}
