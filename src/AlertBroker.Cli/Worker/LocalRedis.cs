using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AlertBroker.Cli.Worker;

/// <summary>A throw-away <c>redis-server</c> on a free loopback port (no persistence), for the demo and benchmarks.</summary>
internal sealed class LocalRedis : IDisposable
{
    private readonly Process _process;

    private LocalRedis(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Configuration => "127.0.0.1:" + Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static LocalRedis? TryStart()
    {
        var server = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists);
        if (server is null)
        {
            return null;
        }

        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var info = new ProcessStartInfo(server) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no" })
        {
            info.ArgumentList.Add(a);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return new LocalRedis(process, port);
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        process.Kill();
        process.Dispose();
        return null;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }

        _process.Dispose();
    }
}
