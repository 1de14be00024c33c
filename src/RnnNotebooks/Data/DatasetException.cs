namespace RnnNotebooks.Data;

/// <summary>
/// A dataset file is missing, corrupt, truncated or could not be downloaded. The message names the file
/// (and the URL, when there was one) and says how to fix it.
/// </summary>
/// <remarks>Introduced in 00-setup.</remarks>
public sealed class DatasetException : IOException
{
    /// <summary>Creates the exception.</summary>
    public DatasetException(string dataset, string message, string? filePath = null, Uri? url = null, Exception? inner = null)
        : base(message, inner)
    {
        Dataset = dataset;
        FilePath = filePath;
        Url = url;
    }

    /// <summary>The registered dataset name, e.g. <c>tinyshakespeare</c>.</summary>
    public string Dataset { get; }

    /// <summary>The local file concerned, if any.</summary>
    public string? FilePath { get; }

    /// <summary>The URL a download came from, if any.</summary>
    public Uri? Url { get; }
}
