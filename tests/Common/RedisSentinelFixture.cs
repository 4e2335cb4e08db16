using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace AlertBroker.Tests.Common;

/// <summary>
/// A Redis primary with one replica, watched by one Sentinel (quorum 1, a primary is down after 1 s without an answer),
/// on free loopback ports, for the duration of a test class: the Sentinel deployment the architecture names beside Redis
/// Cluster. <see cref="Configuration"/> is what a worker is given, the Sentinel's address and the service name
/// (<c>127.0.0.1:PORT,serviceName=NAME</c>); the client asks the Sentinel for the primary and follows it after a failover.
/// No persistence. When redis-server or redis-cli is missing, <see cref="Available"/> is false and the tests report why.
/// The secure variant (<see cref="SecureRedisSentinelFixture"/>) speaks TLS only, everywhere (clients, replication, the
/// Sentinel's own port and its connections to the data nodes), with the <c>default</c> user off and one ACL user, the
/// same on the Sentinel and on the data nodes (a client gives one set of credentials for both).
/// </summary>
public class RedisSentinelFixture : RedisServerFixture
{
    /// <summary>The name the Sentinel monitors the primary under.</summary>
    public const string ServiceName = "alertbroker-primary";

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "ab-redis-sentinel-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly Dictionary<int, Process> _servers = [];
    private readonly StringBuilder _log = new();
    private Process? _sentinel;
    private int _sentinelPort;

    public RedisSentinelFixture()
        : this(secure: false)
    {
    }

    protected RedisSentinelFixture(bool secure)
        : base(secure, requireClientCertificate: false)
    {
        UnavailableReason = "redis-server or redis-cli is not installed (run eng/setup.sh)";
    }

    public override bool Available => _sentinel is { HasExited: false } && _servers.Count == 2 && _servers.Values.All(p => !p.HasExited);

    /// <summary>The Sentinel and the service name, as a worker's <c>--redis</c> takes them.</summary>
    public override string Configuration => $"127.0.0.1:{_sentinelPort.ToString(CultureInfo.InvariantCulture)},serviceName={ServiceName}";

    /// <summary>The data nodes' ports (the first started as the primary).</summary>
    public IReadOnlyCollection<int> ServerPorts => _servers.Keys;

    public override async Task InitializeAsync()
    {
        var server = FindServer();
        if (server is null || FindProgram("redis-cli") is null)
        {
            return;
        }

        Directory.CreateDirectory(_dataDir);
        if (Tls && !await MakeCertificatesAsync().ConfigureAwait(false))
        {
            return;
        }

        var primary = await StartAsync(server, [], "Ready to accept connections").ConfigureAwait(false);
        await StartAsync(server, ["--replicaof", "127.0.0.1", primary.ToString(CultureInfo.InvariantCulture)], "MASTER <-> REPLICA sync: Finished with success").ConfigureAwait(false);

        // A Sentinel rewrites its configuration file, so it needs one of its own.
        _sentinelPort = await StartAsync(server, [], "+monitor master", sentinel: primary).ConfigureAwait(false);
        Port = _sentinelPort;
        await WaitForReplicaInSyncAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
    }

    /// <summary>The primary's port, as the Sentinel says it now.</summary>
    public async Task<int> PrimaryPortAsync()
    {
        var (_, text) = await CliAsync(_sentinelPort, "sentinel", "get-master-addr-by-name", ServiceName).ConfigureAwait(false);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length >= 2 && int.TryParse(lines[1], CultureInfo.InvariantCulture, out var port)
            ? port
            : throw new InvalidOperationException("the Sentinel names no primary: " + text);
    }

    /// <summary>Waits until the replica has acknowledged all the primary has written, so that a primary killed next loses nothing.</summary>
    public async Task WaitForReplicaInSyncAsync(TimeSpan timeout)
    {
        var primary = await PrimaryPortAsync().ConfigureAwait(false);
        await WaitForReplicasAsync(async () => (await CliAsync(primary, "info", "replication").ConfigureAwait(false)).Output, 1, Stopwatch.StartNew(), timeout, primary.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
    }

    /// <summary>Kills the primary at once (SIGKILL); returns its port.</summary>
    public async Task<int> KillPrimaryAsync()
    {
        var port = await PrimaryPortAsync().ConfigureAwait(false);
        var process = _servers[port];
        process.Kill();
        await process.WaitForExitAsync().ConfigureAwait(false);
        return port;
    }

    /// <summary>Waits until the Sentinel has promoted another server in place of <paramref name="lostPort"/> and that server
    /// says it is a primary; returns its port.</summary>
    public async Task<int> WaitForFailoverAsync(int lostPort, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var port = await PrimaryPortAsync().ConfigureAwait(false);
            if (port != lostPort && (await CliAsync(port, "info", "replication").ConfigureAwait(false)).Output.Contains("role:master", StringComparison.Ordinal))
            {
                return port;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"the Sentinel did not fail over from {lostPort} within {timeout}:\n" + Snapshot(_log));
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    public override async Task DisposeAsync()
    {
        foreach (var p in _servers.Values.Append(_sentinel).OfType<Process>())
        {
            if (!p.HasExited)
            {
                p.Kill();
                await p.WaitForExitAsync().ConfigureAwait(false);
            }

            p.Dispose();
        }

        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    // Starts a data node (or, with sentinel, the Sentinel watching that primary) on a free port; tries other ports when one
    // is taken between TestPorts.Free and the bind.
    private async Task<int> StartAsync(string server, string[] extra, string readyLine, int? sentinel = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = TestPorts.Free();
            var text = port.ToString(CultureInfo.InvariantCulture);
            List<string> arguments;
            if (sentinel is { } primary)
            {
                var file = Path.Combine(_dataDir, $"sentinel-{text}.conf");
                string[] settings =
                [
                    "bind 127.0.0.1",
                    $"sentinel monitor {ServiceName} 127.0.0.1 {primary.ToString(CultureInfo.InvariantCulture)} 1",
                    $"sentinel down-after-milliseconds {ServiceName} 1000",
                    $"sentinel failover-timeout {ServiceName} 10000",
                    .. SentinelSecurity(text),
                ];
                await File.WriteAllTextAsync(file, string.Join('\n', settings) + "\n").ConfigureAwait(false);
                arguments = [file, "--sentinel"];
            }
            else
            {
                arguments = ["--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no", "--dir", _dataDir, .. extra, .. NodeSecurity(text)];
            }

            var log = new StringBuilder();
            var (process, portTaken) = await LaunchAsync(server, arguments, log, readyLine).ConfigureAwait(false);
            Append(_log, Snapshot(log));
            if (process is not null)
            {
                if (sentinel is null)
                {
                    _servers[port] = process;
                }
                else
                {
                    _sentinel = process;
                }

                return port;
            }

            if (!portTaken || attempt == MaxStartAttempts)
            {
                UnavailableReason = "redis-server exited at start: " + Snapshot(log);
                throw new InvalidOperationException(UnavailableReason);
            }
        }
    }

    // A data node's port and, when secure, its TLS and ACL settings: TLS only (replication too), the default user off, the
    // ACL user, which the replica also uses to replicate.
    private string[] NodeSecurity(string port)
    {
        if (!Tls)
        {
            return ["--port", port];
        }

        var dir = Path.GetDirectoryName(CaFile)!;
        return
        [
            "--port", "0", "--tls-port", port, "--tls-replication", "yes",
            "--tls-cert-file", Path.Combine(dir, "server.crt"), "--tls-key-file", Path.Combine(dir, "server.key"), "--tls-ca-cert-file", CaFile!, "--tls-auth-clients", "no",
            "--user", "default", "off", "--user", User!, "on", ">" + Password, "~*", "&*", "+@all", "--masteruser", User!, "--masterauth", Password!,
        ];
    }

    // The Sentinel's port and, when secure, the same in sentinel.conf: TLS on its port and to the data nodes
    // (tls-replication), the ACL user for clients, and the credentials it gives the data nodes.
    private string[] SentinelSecurity(string port)
    {
        if (!Tls)
        {
            return ["port " + port];
        }

        var dir = Path.GetDirectoryName(CaFile)!;
        return
        [
            "port 0", "tls-port " + port, "tls-replication yes",
            "tls-cert-file " + Path.Combine(dir, "server.crt"), "tls-key-file " + Path.Combine(dir, "server.key"), "tls-ca-cert-file " + CaFile, "tls-auth-clients no",
            "user default off", $"user {User} on >{Password} ~* &* +@all",
            $"sentinel auth-user {ServiceName} {User}", $"sentinel auth-pass {ServiceName} {Password}",
        ];
    }

    // redis-cli, over TLS as the ACL user when secure (the password in REDISCLI_AUTH: on the command line it adds a warning
    // to the output).
    private Task<(int Exit, string Output)> CliAsync(int port, params string[] command) =>
        RunProcessAsync(
            FindProgram("redis-cli")!,
            ["-p", port.ToString(CultureInfo.InvariantCulture), .. Tls ? new[] { "--tls", "--cacert", CaFile!, "--user", User! } : [], .. command],
            Tls ? new() { ["REDISCLI_AUTH"] = Password! } : null);
}

/// <summary>The Sentinel deployment with TLS everywhere and an ACL user (see <see cref="RedisSentinelFixture"/>).</summary>
public sealed class SecureRedisSentinelFixture : RedisSentinelFixture
{
    public SecureRedisSentinelFixture()
        : base(secure: true)
    {
    }
}
