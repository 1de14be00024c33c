using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RnnNotebooks.Tests.Data;

/// <summary>What the server sends for one request path.</summary>
/// <param name="Status">HTTP status code.</param>
/// <param name="Body">Bytes actually sent.</param>
/// <param name="ContentLength">Content-Length header; defaults to the body length. A larger value with a
/// shorter body simulates a connection that drops mid-download.</param>
internal sealed record Reply(int Status, byte[] Body, long? ContentLength = null);

/// <summary>
/// A tiny HTTP/1.1 server on 127.0.0.1 with a free port, built on TcpListener so a test can send a body shorter
/// than its Content-Length and then close the connection. One request per connection.
/// </summary>
internal sealed class LocalHttpServer : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly Func<string, Reply> handler;
    private readonly CancellationTokenSource stop = new();

    public LocalHttpServer(Func<string, Reply> handler)
    {
        this.handler = handler;
        listener.Start();
        BaseUrl = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
        _ = Task.Run(AcceptLoop);
    }

    public Uri BaseUrl { get; }

    /// <summary>Every request path received, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Serves files from a folder laid out like shared/datasets (<c>/&lt;name&gt;/&lt;path&gt;</c>); 404 otherwise.</summary>
    public static LocalHttpServer ServeFolder(string root, Func<string, byte[], Reply>? tamper = null) =>
        new(path =>
        {
            var file = Path.Combine(root, Uri.UnescapeDataString(path.TrimStart('/')));
            if (!File.Exists(file))
            {
                return new Reply(404, Encoding.UTF8.GetBytes("Not Found"));
            }

            var bytes = File.ReadAllBytes(file);
            return tamper?.Invoke(path, bytes) ?? new Reply(200, bytes);
        });

    private async Task AcceptLoop()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }

            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var path = await ReadRequestPath(stream);
                Requests.Enqueue(path);
                var reply = handler(path);
                var header = $"HTTP/1.1 {reply.Status} {ReasonFor(reply.Status)}\r\n"
                    + $"Content-Length: {reply.ContentLength ?? reply.Body.Length}\r\n"
                    + "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(header));
                await stream.WriteAsync(reply.Body);
                await stream.FlushAsync();
            }
            catch (IOException)
            {
                // The client gave up; nothing to do.
            }
        }
    }

    private static async Task<string> ReadRequestPath(NetworkStream stream)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (!EndsWithBlankLine(received))
        {
            var n = await stream.ReadAsync(buffer);
            if (n == 0)
            {
                break;
            }

            received.AddRange(buffer.AsSpan(0, n).ToArray());
        }

        var requestLine = Encoding.ASCII.GetString([.. received]).Split("\r\n")[0];
        return requestLine.Split(' ') is [_, var path, ..] ? path : "/";
    }

    private static bool EndsWithBlankLine(List<byte> b) =>
        b.Count >= 4 && b[^4] == '\r' && b[^3] == '\n' && b[^2] == '\r' && b[^1] == '\n';

    private static string ReasonFor(int status) => status switch
    {
        200 => "OK",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    };

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        stop.Dispose();
    }
}
