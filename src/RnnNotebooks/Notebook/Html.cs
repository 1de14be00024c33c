using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;

namespace RnnNotebooks.Notebook;

/// <summary>A fragment of HTML that a notebook shows as HTML rather than as escaped text.</summary>
/// <remarks>
/// The kernel's <c>Kernel.HTML</c> returns a type from Microsoft.AspNetCore.Html.Abstractions, whose version in
/// the kernel differs from the one NuGet serves, so library code cannot call it; this type and its formatter
/// avoid that dependency. Introduced in 00-getting-started.
/// </remarks>
public sealed record Html(string Content)
{
    static int registered;

    /// <summary>Registers the formatter that writes <see cref="Content"/> as-is (once per process).</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref registered, 1) == 1) return;
        Formatter.Register<Html>((h, writer) => writer.Write(h.Content), HtmlFormatter.MimeType);
    }

    /// <summary>Shows the fragment in the running notebook and returns a handle to update it in place.</summary>
    public static DisplayedValue Display(string content)
    {
        Register();
        return Kernel.display(new Html(content), HtmlFormatter.MimeType);
    }

    /// <summary>The raw HTML.</summary>
    public override string ToString() => Content;
}
