using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Tests.Docs;

/// <summary>Every relative link in README.md, CONTRIBUTING.md and docs/ must reach a file of the repository, and a
/// <c>#anchor</c> a heading of its target: a moved page or a renamed heading fails here, not in a reader's browser.</summary>
public class DocsLinksTests
{
    static readonly string Root = Course.FindRepoRoot(AppContext.BaseDirectory);

    static IReadOnlyList<string> DocumentationFiles()
    {
        var files = new List<string> { Path.Combine(Root, "README.md"), Path.Combine(Root, "CONTRIBUTING.md") };
        var docs = Path.Combine(Root, "docs");
        if (Directory.Exists(docs))
            files.AddRange(Directory.EnumerateFiles(docs, "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
        return files;
    }

    [Fact]
    public void EveryRelativeLink_ResolvesToAFileOrAHeadingInTheRepository()
    {
        var files = DocumentationFiles();
        foreach (var file in files) Assert.True(File.Exists(file), $"{file} is missing.");
        var checker = new MarkdownLinkChecker(Root, path => File.Exists(path) ? File.ReadAllText(path) : null);

        var broken = files.SelectMany(f => checker.BrokenLinks(f, File.ReadAllText(f))).ToList();

        Assert.True(broken.Count == 0, $"{broken.Count} broken link(s):\n{string.Join("\n", broken)}");
    }

    [Fact]
    public void TheDocumentation_HasLinksToCheck()
    {
        var links = DocumentationFiles().Sum(f => MarkdownLinkChecker.Links(File.ReadAllText(f)).Count());
        Assert.True(links > 20, $"only {links} relative links found: is the link pattern still right?");
    }

    [Fact]
    public void Checker_ReportsAMissingFile_AMissingHeading_AndALinkOutOfTheRepository()
    {
        var root = Path.Combine(Path.GetTempPath(), "links");
        var pages = new Dictionary<string, string>
        {
            [Path.Combine(root, "README.md")] = "# Title\n\n## Quick start\n",
            [Path.Combine(root, "docs", "a.md")] =
                "# Page A\n\n" +
                "[good file](../README.md) [good heading](../README.md#quick-start) [own heading](#page-a)\n" +
                "[missing file](missing.md) [missing heading](../README.md#slow-start) [outside](../../etc/passwd)\n" +
                "[web](https://example.org/x.md) `[in code](nowhere.md)`\n\n```\n[in a fence](nowhere.md)\n```\n",
        };
        var checker = new MarkdownLinkChecker(root, path => pages.GetValueOrDefault(path));
        var page = Path.Combine(root, "docs", "a.md");

        var broken = checker.BrokenLinks(page, pages[page]).ToList();

        Assert.Equal(3, broken.Count);
        Assert.Contains(broken, b => b.Contains("missing.md"));
        Assert.Contains(broken, b => b.Contains("#slow-start"));
        Assert.Contains(broken, b => b.Contains("etc/passwd"));
    }

    [Theory]
    [InlineData("Quick start", "quick-start")]
    [InlineData("GLIBCXX_3.4.32 not found on older Linux", "glibcxx_3432-not-found-on-older-linux")]
    [InlineData("The `rnn` command line", "the-rnn-command-line")]
    [InlineData("05-speech-recognition", "05-speech-recognition")]
    [InlineData("Lessons 04–06: one lesson each", "lessons-0406-one-lesson-each")]
    [InlineData("See [the docs](docs/x.md) first", "see-the-docs-first")]
    public void Slug_FollowsGitHubsRules(string heading, string slug)
    {
        Assert.Equal(slug, MarkdownLinkChecker.Slug(heading));
    }

    [Fact]
    public void RepeatedHeadings_GetNumberedAnchors()
    {
        var anchors = MarkdownLinkChecker.Anchors("# Detail\n\n## Detail\n\n### Detail\n");
        Assert.Equal(["detail", "detail-1", "detail-2"], anchors.Order(StringComparer.Ordinal));
    }
}

/// <summary>Finds the relative links of a Markdown page and checks them against files and GitHub's heading anchors.</summary>
/// <param name="root">The repository root: a link that leaves it is broken.</param>
/// <param name="read">The text of a file, or null if there is none.</param>
public sealed class MarkdownLinkChecker(string root, Func<string, string?> read)
{
    static readonly Regex Fence = new(@"^\s*(```|~~~)", RegexOptions.Compiled);
    static readonly Regex CodeSpan = new(@"`+[^`]*`+", RegexOptions.Compiled);
    static readonly Regex Link = new(@"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)", RegexOptions.Compiled);
    static readonly Regex Heading = new(@"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", RegexOptions.Compiled);
    static readonly Regex HtmlAnchor = new(@"<a\s+(?:name|id)=""([^""]+)""", RegexOptions.Compiled);
    static readonly Regex Scheme = new(@"^[a-zA-Z][a-zA-Z0-9+.-]*:", RegexOptions.Compiled);

    /// <summary>The relative link targets of a page (outside code), as written.</summary>
    public static IEnumerable<string> Links(string markdown) =>
        ProseLines(markdown)
            .SelectMany(line => Link.Matches(CodeSpan.Replace(line, "")).Select(m => m.Groups[1].Value))
            .Where(target => !Scheme.IsMatch(target));

    /// <summary>One line per link of <paramref name="markdown"/> (the page at <paramref name="path"/>) that does not
    /// resolve, naming the page, the target and why.</summary>
    public IEnumerable<string> BrokenLinks(string path, string markdown)
    {
        var fullRoot = Path.GetFullPath(root);
        foreach (var target in Links(markdown))
        {
            var hash = target.IndexOf('#');
            var file = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
            var anchor = hash < 0 ? null : target[(hash + 1)..];
            var resolved = file.Length == 0 ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, file));
            var where = $"{Path.GetRelativePath(fullRoot, path)}: ({target})";

            if (!resolved.StartsWith(fullRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal) && resolved != fullRoot)
            {
                yield return $"{where} leaves the repository";
                continue;
            }
            if (Directory.Exists(resolved) && anchor is null) continue;
            var text = read(resolved);
            if (text is null)
            {
                yield return $"{where}: no file {Path.GetRelativePath(fullRoot, resolved)}";
                continue;
            }
            if (anchor is not null && resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase)
                && !Anchors(text).Contains(Uri.UnescapeDataString(anchor)))
                yield return $"{where}: no heading with anchor #{anchor} in {Path.GetRelativePath(fullRoot, resolved)}";
        }
    }

    /// <summary>The anchors GitHub gives a page: one per heading (repeats numbered -1, -2, …) and explicit HTML anchors.</summary>
    public static IReadOnlySet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in ProseLines(markdown))
        {
            foreach (Match a in HtmlAnchor.Matches(line)) anchors.Add(a.Groups[1].Value);
            var h = Heading.Match(line);
            if (!h.Success) continue;
            var slug = Slug(h.Groups[1].Value);
            var n = seen.GetValueOrDefault(slug);
            seen[slug] = n + 1;
            anchors.Add(n == 0 ? slug : $"{slug}-{n}");
        }
        return anchors;
    }

    /// <summary>GitHub's anchor for a heading: the text without link targets, lower case, letters, digits, marks,
    /// underscores, hyphens and spaces kept, spaces turned into hyphens.</summary>
    public static string Slug(string heading)
    {
        var text = Regex.Replace(heading, @"\[([^\]]*)\]\([^)]*\)", "$1").Trim().ToLowerInvariant();
        var slug = new StringBuilder();
        foreach (var c in text)
        {
            var category = char.GetUnicodeCategory(c);
            if (c == ' ') slug.Append('-');
            else if (c == '-' || char.IsLetterOrDigit(c) || category is UnicodeCategory.ConnectorPunctuation
                     or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.LetterNumber
                     or UnicodeCategory.OtherNumber)
                slug.Append(c);
        }
        return slug.ToString();
    }

    /// <summary>The lines of a page outside fenced code blocks.</summary>
    static IEnumerable<string> ProseLines(string markdown)
    {
        var inFence = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (Fence.IsMatch(line)) { inFence = !inFence; continue; }
            if (!inFence) yield return line.TrimEnd('\r');
        }
    }
}
