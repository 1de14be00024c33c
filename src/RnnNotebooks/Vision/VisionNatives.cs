using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Text.Json;

namespace RnnNotebooks.Vision;

/// <summary>
/// Lets SkiaSharp and ONNX Runtime find their native libraries when the library is loaded into a notebook kernel.
/// </summary>
/// <remarks>
/// A console app or test host finds <c>libSkiaSharp.so</c> and <c>libonnxruntime.so</c> through its deps.json. A
/// notebook <c>#r</c>s only <c>RnnNotebooks.dll</c>: the managed SkiaSharp and ONNX Runtime assemblies beside it
/// load, but native probing looks in the kernel's folder. A DllImport resolver points both at the
/// <c>runtimes/&lt;rid&gt;/native</c> folder the build copies beside the library; if it is not there, the
/// default probing runs as usual.
/// Introduced in 06-image-captioning.
/// </remarks>
public static class VisionNatives
{
    static int prepared;

    /// <summary>Installs the resolvers once per process (idempotent; safe when a host already installed its own).</summary>
    public static void Prepare()
    {
        if (Interlocked.Exchange(ref prepared, 1) == 1) return;
        AssemblyLoadContext.Default.Resolving += ResolveManaged;
        InstallNativeResolvers();
    }

    // Kept apart from Prepare: compiling this method loads the SkiaSharp and ONNX Runtime assemblies, which in a
    // notebook only succeeds once ResolveManaged is registered.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void InstallNativeResolvers()
    {
        Install(typeof(SkiaSharp.SKBitmap).Assembly);
        Install(typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly);
    }

    /// <summary>Loads a managed dependency (e.g. Microsoft.ML.OnnxRuntime.dll) that the host cannot find: from
    /// beside this library, else from the NuGet package the library's deps.json names.</summary>
    static Assembly? ResolveManaged(AssemblyLoadContext context, AssemblyName name)
    {
        if (name.Name is null) return null;
        // A kernel loads #r'd assemblies (this library included) outside the default probing; handing out a second
        // copy of one of them would split its types in two, so an assembly already loaded is always reused.
        var loaded = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == name.Name);
        if (loaded is not null) return loaded;
        var path = Candidates(name.Name + ".dll", native: false).FirstOrDefault(File.Exists);
        return path is null ? null : context.LoadFromAssemblyPath(path);
    }

    static void Install(Assembly assembly)
    {
        try
        {
            NativeLibrary.SetDllImportResolver(assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // The host set a resolver already; it knows where its natives are.
        }
    }

    static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        var (prefix, suffix) = OperatingSystem.IsWindows() ? ("", ".dll") : OperatingSystem.IsMacOS() ? ("lib", ".dylib") : ("lib", ".so");
        var file = Path.GetFileName(name);
        if (!file.StartsWith(prefix, StringComparison.Ordinal)) file = prefix + file;
        if (!file.EndsWith(suffix, StringComparison.Ordinal)) file += suffix;
        foreach (var candidate in Candidates(file, native: true))
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle))
                return handle;
        return IntPtr.Zero;
    }

    /// <summary>Where <paramref name="file"/> may be: beside the library, in its runtimes folder, then the NuGet
    /// cache paths that <c>RnnNotebooks.deps.json</c> records for it.</summary>
    static IEnumerable<string> Candidates(string file, bool native)
    {
        var here = Path.GetDirectoryName(typeof(VisionNatives).Assembly.Location);
        if (string.IsNullOrEmpty(here)) yield break;
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var rid = $"{os}-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";
        yield return Path.Combine(here, file);
        if (native) yield return Path.Combine(here, "runtimes", rid, "native", file);
        var depsPath = Path.Combine(here, "RnnNotebooks.deps.json");
        if (!File.Exists(depsPath)) yield break;
        var nuget = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } n
            ? n
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        using var deps = JsonDocument.Parse(File.ReadAllText(depsPath));
        var libraries = deps.RootElement.GetProperty("libraries");
        foreach (var target in deps.RootElement.GetProperty("targets").EnumerateObject())
            foreach (var package in target.Value.EnumerateObject())
            {
                if (!libraries.TryGetProperty(package.Name, out var library) || !library.TryGetProperty("path", out var packagePath)) continue;
                if (!package.Value.TryGetProperty(native ? "runtimeTargets" : "runtime", out var assets)) continue;
                foreach (var asset in assets.EnumerateObject())
                {
                    if (!string.Equals(Path.GetFileName(asset.Name), file, StringComparison.OrdinalIgnoreCase)) continue;
                    if (native && !(asset.Value.TryGetProperty("rid", out var r) && (r.GetString() == rid || r.GetString() == os))) continue;
                    yield return Path.Combine(nuget, packagePath.GetString()!, asset.Name);
                }
            }
    }
}
