using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace AlertBroker.Tests.Common;

/// <summary>
/// A real three-master Redis Cluster on loopback for the duration of a test class (or collection): three
/// <c>redis-server --cluster-enabled yes</c> processes on free ports (each with its own free cluster-bus port), joined by
/// <c>redis-cli --cluster create … --cluster-replicas 0</c>, ready once every node reports <c>cluster_state:ok</c>.
/// <see cref="RedisServerFixture.Configuration"/> names all three nodes, as a deployment names its seed nodes; clients
/// discover the slot map from them. No persistence. When redis-server or redis-cli is missing, <see cref="Available"/> is
/// false and the tests report why.
/// </summary>
public sealed class RedisClusterFixture : RedisServerFixture
{
    /// <summary>Masters of the cluster.</summary>
    public const int Masters = 3;

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "ab-redis-cluster-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<Process> _processes = [];
    private readonly List<int> _ports = [];
    private readonly StringBuilder _log = new();
    private bool _ready;

    public RedisClusterFixture()
    {
        UnavailableReason = "redis-server or redis-cli is not installed (run eng/setup.sh)";
    }

    /// <summary>The client port of each master.</summary>
    public IReadOnlyList<int> NodePorts => _ports;

    public override bool Available => _processes.Count == Masters && _processes.TrueForAll(p => !p.HasExited) && _ready;

    /// <summary>Every master, <c>127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3</c>.</summary>
    public override string Configuration => string.Join(",", _ports.Select(p => "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture)));

    public override async Task InitializeAsync()
    {
        var server = FindServer();
        var cli = FindProgram("redis-cli");
        if (server is null || cli is null)
        {
            return;
        }

        Directory.CreateDirectory(_dataDir);
        for (var i = 0; i < Masters; i++)
        {
            // A free port can be taken between FreePort and redis-server's bind (tests run in parallel): try other ports.
            for (var attempt = 1; ; attempt++)
            {
                var port = FreePort();
                var bus = FreePort();
                string[] arguments =
                [
                    "--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--cluster-enabled", "yes",
                    "--cluster-port", bus.ToString(CultureInfo.InvariantCulture), "--cluster-config-file", Path.Combine(_dataDir, $"nodes-{port}.conf"),
                    "--cluster-node-timeout", "5000", "--save", string.Empty, "--appendonly", "no", "--dir", _dataDir,
                ];
                var log = new StringBuilder();
                var (process, portTaken) = await LaunchAsync(server, arguments, log).ConfigureAwait(false);
                Append(_log, Snapshot(log));
                if (process is not null)
                {
                    _processes.Add(process);
                    _ports.Add(port);
                    break;
                }

                if (!portTaken || attempt == MaxStartAttempts)
                {
                    UnavailableReason = "redis-server exited at start: " + Snapshot(log);
                    throw new InvalidOperationException(UnavailableReason);
                }
            }
        }

        Port = _ports[0];
        var create = new List<string> { "--cluster", "create" };
        create.AddRange(_ports.Select(p => "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture)));
        create.AddRange(["--cluster-replicas", "0", "--cluster-yes"]);
        var (exit, output) = await RunAsync(cli, create).ConfigureAwait(false);
        if (exit != 0)
        {
            throw new InvalidOperationException("redis-cli --cluster create failed: " + output + "\n" + Snapshot(_log));
        }

        // Every node must know the whole slot map before a client asks any of them.
        var clock = Stopwatch.StartNew();
        foreach (var port in _ports)
        {
            while (true)
            {
                var (_, state) = await RunAsync(cli, ["-p", port.ToString(CultureInfo.InvariantCulture), "cluster", "info"]).ConfigureAwait(false);
                if (state.Contains("cluster_state:ok", StringComparison.Ordinal))
                {
                    break;
                }

                if (clock.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new InvalidOperationException($"node {port} did not reach cluster_state:ok: {state}");
                }

                await Task.Delay(100).ConfigureAwait(false);
            }
        }

        _ready = true;
    }

    /// <summary>The port of the master that serves <paramref name="key"/>'s slot (asked with <c>CLUSTER KEYSLOT</c> and <c>CLUSTER SLOTS</c>' view through redis-cli).</summary>
    public async Task<int> MasterOfAsync(string key)
    {
        var cli = FindProgram("redis-cli")!;
        var (_, slotText) = await RunAsync(cli, ["-p", Port.ToString(CultureInfo.InvariantCulture), "cluster", "keyslot", key]).ConfigureAwait(false);
        var slot = int.Parse(slotText.Trim(), CultureInfo.InvariantCulture);
        var (_, nodes) = await RunAsync(cli, ["-p", Port.ToString(CultureInfo.InvariantCulture), "cluster", "nodes"]).ConfigureAwait(false);
        foreach (var line in nodes.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // <id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <state> <slot ranges…>
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 9 || !f[2].Contains("master", StringComparison.Ordinal))
            {
                continue;
            }

            var port = int.Parse(f[1][(f[1].IndexOf(':', StringComparison.Ordinal) + 1)..f[1].IndexOf('@', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
            foreach (var range in f.Skip(8))
            {
                var dash = range.IndexOf('-', StringComparison.Ordinal);
                var lo = int.Parse(dash < 0 ? range : range[..dash], CultureInfo.InvariantCulture);
                var hi = dash < 0 ? lo : int.Parse(range[(dash + 1)..], CultureInfo.InvariantCulture);
                if (slot >= lo && slot <= hi)
                {
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"no master serves slot {slot} of '{key}':\n{nodes}");
    }

    public override async Task DisposeAsync()
    {
        foreach (var p in _processes)
        {
            if (!p.HasExited)
            {
                p.Kill();
                await p.WaitForExitAsync().ConfigureAwait(false);
            }

            p.Dispose();
        }

        _processes.Clear();
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<(int Exit, string Output)> RunAsync(string program, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        return (process.ExitCode, stdout + await stderr.ConfigureAwait(false));
    }
}
