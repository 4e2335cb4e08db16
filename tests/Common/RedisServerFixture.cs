using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AlertBroker.Tests.Common;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, without persistence, for the duration of a test class. Tests use
/// unique key prefixes so they never see each other's keys. When redis-server is not installed, <see cref="Available"/> is
/// false and the Redis tests report that they were skipped.
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "ab-redis-" + Guid.NewGuid().ToString("N")[..12]);
    private Process? _process;

    public int Port { get; private set; }

    public bool Available => _process is { HasExited: false };

    public string Configuration => "127.0.0.1:" + Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string? FindServer()
    {
        foreach (var dir in new[] { "/usr/bin", "/usr/local/bin", "/usr/sbin" })
        {
            var path = Path.Combine(dir, "redis-server");
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    public async Task InitializeAsync()
    {
        await StartAsync(0).ConfigureAwait(false);
    }

    /// <summary>Starts the server (on <paramref name="port"/>, or a free one when 0).</summary>
    public async Task StartAsync(int port)
    {
        var server = FindServer();
        if (server is null)
        {
            return;
        }

        Port = port != 0 ? port : FreePort();
        var info = new ProcessStartInfo(server)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Directory.CreateDirectory(_dataDir);
        foreach (var a in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no", "--dir", _dataDir })
        {
            info.ArgumentList.Add(a);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port).ConfigureAwait(false);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50).ConfigureAwait(false);
            }
        }

        throw new InvalidOperationException("redis-server did not start listening on port " + Port);
    }

    /// <summary>Kills the server at once (no save: it has no persistence, so everything is lost).</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            await p.WaitForExitAsync().ConfigureAwait(false);
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>
    /// Restarts the server on the same port keeping its data, as an operator's restart would: SHUTDOWN SAVE writes a
    /// snapshot, the new process loads it. <paramref name="downtime"/> is how long it stays down.
    /// </summary>
    public async Task RestartAsync(TimeSpan downtime)
    {
        if (_process is { HasExited: false } p)
        {
            using (var client = new TcpClient())
            {
                await client.ConnectAsync(IPAddress.Loopback, Port).ConfigureAwait(false);
                var stream = client.GetStream();
                await stream.WriteAsync("SHUTDOWN SAVE\r\n"u8.ToArray()).ConfigureAwait(false);
                await stream.FlushAsync().ConfigureAwait(false);
                await p.WaitForExitAsync().ConfigureAwait(false);
            }

            p.Dispose();
            _process = null;
        }

        await Task.Delay(downtime).ConfigureAwait(false);
        await StartAsync(Port).ConfigureAwait(false);
    }

    public async Task DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
