using System.Net;
using System.Security.Cryptography;

namespace RnnNotebooks.Data;

/// <summary>
/// Writes registered files into a dataset folder: streams each one to a temporary file beside its final path,
/// hashing as it goes, checks size and SHA-256, and only then moves it into place, so a failed or interrupted
/// download never leaves a partial file at the final path.
/// </summary>
internal static class Downloader
{
    private static readonly Lazy<HttpClient> sharedClient = new(() => new HttpClient { Timeout = TimeSpan.FromMinutes(5) });

    public static async Task FetchAllAsync(
        DatasetInfo info, string directory, IReadOnlyList<DatasetFile> files, DatasetOptions options, CancellationToken ct)
    {
        // A fetch killed mid-file (Ctrl-C twice, SIGKILL, a power cut) leaves its temp file; the next fetch removes it.
        foreach (var folder in files.Select(f => Path.GetDirectoryName(FinalPath(directory, f))!).Distinct(StringComparer.Ordinal))
        {
            TempFiles.RemoveStale(folder);
        }

        var done = 0;
        long bytes = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.MaxParallelDownloads), CancellationToken = ct };
        await Parallel.ForEachAsync(files, parallel, async (file, token) =>
        {
            await FetchAsync(info, file, directory, options, token).ConfigureAwait(false);
            var n = Interlocked.Increment(ref done);
            var b = Interlocked.Add(ref bytes, file.Downloaded.Bytes);
            options.Progress?.Report(new DownloadProgress(info.Name, file.Path, n, files.Count, b));
        }).ConfigureAwait(false);
    }

    public static async Task FetchAsync(DatasetInfo info, DatasetFile file, string directory, DatasetOptions options, CancellationToken ct)
    {
        if (!file.CanDownload)
        {
            throw new InvalidOperationException($"{info.Name}/{file.Path} has no automatic source.");
        }

        var finalPath = FinalPath(directory, file);
        Directory.CreateDirectory(Path.GetDirectoryName(finalPath)!);
        var temp = TempFiles.Claim(finalPath);
        var url = file.Source == FileSource.Url ? UrlFor(info, file, options) : null;
        var from = url is null ? "from the copy embedded in RnnNotebooks.dll" : $"downloaded from {url}";
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long written;
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                int lastByte;
                if (url is null)
                {
                    await using var input = Manifest.OpenEmbedded(info.Name, file.Path);
                    (written, lastByte) = await CopyAsync(input, output, hash, ct).ConfigureAwait(false);
                }
                else
                {
                    (written, lastByte) = await DownloadAsync(info, file, url, finalPath, output, hash, options, ct).ConfigureAwait(false);
                }

                if (file.Fixup == FileFixup.AppendFinalNewline && lastByte != '\n')
                {
                    byte[] newline = [(byte)'\n'];
                    await output.WriteAsync(newline, ct).ConfigureAwait(false);
                    hash.AppendData(newline);
                    written++;
                }
            }

            var expected = file.Downloaded;
            if (written != expected.Bytes)
            {
                throw new DatasetException(info.Name,
                    $"{finalPath}: size mismatch, expected {expected.Bytes} bytes, got {written} ({from}). The download was "
                    + $"truncated or the upstream file changed; nothing was saved. Retry Datasets.Ensure(\"{info.Name}\"), "
                    + $"or set {Datasets.DataDirVariable} to a folder holding a verified copy of {info.Name}/.",
                    finalPath, url);
            }

            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (actual != expected.Sha256)
            {
                throw new DatasetException(info.Name,
                    $"{finalPath}: SHA-256 mismatch, expected {expected.Sha256}, got {actual} ({from}). The download may be "
                    + $"corrupt or the upstream file changed; nothing was saved. Retry Datasets.Ensure(\"{info.Name}\"), "
                    + $"or set {Datasets.DataDirVariable} to a folder holding a verified copy of {info.Name}/.",
                    finalPath, url);
            }

            File.Move(temp, finalPath, overwrite: true);
        }
        finally
        {
            TryRelease(temp);
        }
    }

    private static string FinalPath(string directory, DatasetFile file) =>
        Path.Combine(directory, file.Path.Replace('/', Path.DirectorySeparatorChar));

    private static async Task<(long Written, int LastByte)> DownloadAsync(
        DatasetInfo info, DatasetFile file, Uri url, string finalPath, Stream output, IncrementalHash hash,
        DatasetOptions options, CancellationToken ct)
    {
        var what = $"{info.Name}/{file.Path}";
        var fix = $"Retry, or set {Datasets.DataDirVariable} to a folder holding a verified copy of {info.Name}/.";
        HttpResponseMessage response;
        try
        {
            response = await (options.HttpClient ?? sharedClient.Value)
                .GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new DatasetException(info.Name,
                $"{url}: request failed while downloading {what} ({ex.Message}). Check the internet connection. {fix}",
                finalPath, url, ex);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new DatasetException(info.Name, $"{url}: timed out while downloading {what}. {fix}", finalPath, url, ex);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var hint = response.StatusCode == HttpStatusCode.NotFound
                    ? "The file is not at that address (moved upstream, or a wrong mirror URL)."
                    : "The server refused or failed the request.";
                throw new DatasetException(info.Name,
                    $"{url}: HTTP {(int)response.StatusCode} {response.ReasonPhrase} while downloading {what}. {hint} {fix}",
                    finalPath, url);
            }

            var expected = response.Content.Headers.ContentLength;
            long written = 0;
            int lastByte;
            try
            {
                await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                (written, lastByte) = await CopyAsync(body, output, hash, ct, n => written = n).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                throw new DatasetException(info.Name,
                    $"{url}: the connection ended after {written} of {expected?.ToString() ?? "an unknown number of"} bytes "
                    + $"while downloading {what} ({ex.Message}); nothing was saved at {finalPath}. {fix}",
                    finalPath, url, ex);
            }

            if (expected is { } length && written != length)
            {
                throw new DatasetException(info.Name,
                    $"{url}: received {written} of {length} bytes (Content-Length) while downloading {what}; nothing was "
                    + $"saved at {finalPath}. {fix}",
                    finalPath, url);
            }

            return (written, lastByte);
        }
    }

    private static async Task<(long Written, int LastByte)> CopyAsync(
        Stream input, Stream output, IncrementalHash hash, CancellationToken ct, Action<long>? onProgress = null)
    {
        var buffer = new byte[1 << 16];
        long written = 0;
        var lastByte = -1;
        int n;
        while ((n = await input.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, n);
            await output.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
            written += n;
            lastByte = buffer[n - 1];
            onProgress?.Invoke(written);
        }

        return (written, lastByte);
    }

    /// <summary>The canonical URL, or <c>{mirror}/{name}/{path}</c> when a mirror is set.</summary>
    internal static Uri UrlFor(DatasetInfo info, DatasetFile file, DatasetOptions options)
    {
        if (options.MirrorBaseUrl is not { } mirror)
        {
            return file.Url!;
        }

        var root = mirror.AbsoluteUri.EndsWith('/') ? mirror : new Uri(mirror.AbsoluteUri + "/");
        var relative = string.Join('/', new[] { info.Name }.Concat(file.Path.Split('/')).Select(Uri.EscapeDataString));
        return new Uri(root, relative);
    }

    private static void TryRelease(string temp)
    {
        try
        {
            TempFiles.Release(temp);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp file is never read, and the next fetch into this folder removes it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
