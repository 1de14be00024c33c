using System.Reflection;
using System.Runtime.Loader;

namespace RnnNotebooks.Notebook;

/// <summary>
/// Lets Plotly.NET (built against FSharp.Core 10.1) run in a notebook kernel that already carries FSharp.Core 10.0.
/// </summary>
/// <remarks>
/// When the runtime cannot find the newer FSharp.Core it asks <see cref="AssemblyLoadContext.Resolving"/>;
/// we answer with the copy already loaded. This class must not mention any Plotly type: loading it must
/// not itself need FSharp.Core. Introduced in 00-getting-started.
/// </remarks>
public static class FSharpCoreRedirect
{
    static int installed;

    /// <summary>Installs the handler once per process.</summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref installed, 1) == 1) return;
        AssemblyLoadContext.Default.Resolving += Resolve;
    }

    static Assembly? Resolve(AssemblyLoadContext context, AssemblyName requested)
    {
        if (requested.Name != "FSharp.Core") return null;
        return AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => a.GetName().Name == "FSharp.Core")
            .OrderByDescending(a => a.GetName().Version)
            .FirstOrDefault();
    }
}
