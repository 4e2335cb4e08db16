using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace AlertBroker.Tests.Common;

/// <summary>
/// A real three-master Redis Cluster on loopback for the duration of a test class (or collection): three
/// <c>redis-server --cluster-enabled yes</c> processes on free ports (each with its own free cluster-bus port), joined by
/// <c>redis-cli --cluster create … --cluster-replicas 0</c>, ready once every node reports <c>cluster_state:ok</c>.
/// <see cref="RedisServerFixture.Configuration"/> names all three masters, as a deployment names its seed nodes; clients
/// discover the slot map from them. No persistence. When redis-server or redis-cli is missing, <see cref="Available"/> is
/// false and the tests report why. <see cref="RedisClusterWithReplicasFixture"/> gives each master a replica, so that a
/// master can be killed and the cluster fail over; <see cref="SecureRedisClusterFixture"/> speaks only TLS, to clients and
/// between nodes, with an ACL user.
/// </summary>
public class RedisClusterFixture : RedisServerFixture
{
    /// <summary>Masters of the cluster.</summary>
    public const int Masters = 3;

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "ab-redis-cluster-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<Process> _processes = [];
    private readonly List<int> _ports = [];
    private readonly List<int> _masterPorts = [];
    private readonly StringBuilder _log = new();
    private readonly int _replicasPerMaster;
    private readonly int _nodeTimeoutMs;
    private bool _ready;

    public RedisClusterFixture()
        : this(replicasPerMaster: 0, nodeTimeoutMs: 5000, secure: false)
    {
    }

    /// <param name="replicasPerMaster">Replicas of each master (<c>--cluster-replicas</c>).</param>
    /// <param name="nodeTimeoutMs"><c>cluster-node-timeout</c>: how long a master may not answer before its replica takes over.</param>
    /// <param name="secure">TLS only (clients, cluster bus and replication), the <c>default</c> user off, an ACL user with a password.</param>
    protected RedisClusterFixture(int replicasPerMaster, int nodeTimeoutMs, bool secure)
        : base(secure, requireClientCertificate: false)
    {
        _replicasPerMaster = replicasPerMaster;
        _nodeTimeoutMs = nodeTimeoutMs;
        UnavailableReason = "redis-server or redis-cli is not installed (run eng/setup.sh)";
    }

    /// <summary>Every node of the cluster, masters and replicas.</summary>
    public int Nodes => Masters * (1 + _replicasPerMaster);

    /// <summary>The client port of each node, masters and replicas, in the order they were started.</summary>
    public IReadOnlyList<int> NodePorts => _ports;

    /// <summary>The client port of each node that was a master when the cluster was made (<see cref="RedisServerFixture.Configuration"/>'s seeds).</summary>
    public IReadOnlyList<int> MasterPorts => _masterPorts;

    public override bool Available => _processes.Count == Nodes && _processes.TrueForAll(p => !p.HasExited) && _ready;

    /// <summary>The masters as made, <c>127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3</c>.</summary>
    public override string Configuration => string.Join(",", _masterPorts.Select(p => "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture)));

    public override async Task InitializeAsync()
    {
        var server = FindServer();
        var cli = FindProgram("redis-cli");
        if (server is null || cli is null)
        {
            return;
        }

        Directory.CreateDirectory(_dataDir);
        if (Tls && !await MakeCertificatesAsync().ConfigureAwait(false))
        {
            return;
        }

        for (var i = 0; i < Nodes; i++)
        {
            // A free port can be taken between TestPorts.Free and redis-server's bind (tests run in parallel): try other ports.
            for (var attempt = 1; ; attempt++)
            {
                var port = TestPorts.Free();
                var bus = TestPorts.Free();
                List<string> arguments =
                [
                    "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                    "--cluster-port", bus.ToString(CultureInfo.InvariantCulture), "--cluster-config-file", Path.Combine(_dataDir, $"nodes-{port}.conf"),
                    "--cluster-node-timeout", _nodeTimeoutMs.ToString(CultureInfo.InvariantCulture), "--save", string.Empty, "--appendonly", "no", "--dir", _dataDir,
                ];
                if (Tls)
                {
                    // The nodes announce their TLS port in the slot map; the bus and replication speak TLS too.
                    var dir = Path.GetDirectoryName(CaFile)!;
                    arguments.AddRange(["--port", "0", "--tls-port", port.ToString(CultureInfo.InvariantCulture), "--tls-cluster", "yes", "--tls-replication", "yes"]);
                    arguments.AddRange(["--tls-cert-file", Path.Combine(dir, "server.crt"), "--tls-key-file", Path.Combine(dir, "server.key"), "--tls-ca-cert-file", CaFile!, "--tls-auth-clients", "no"]);

                    // A node checks the certificate of every node that connects to its bus, whatever tls-auth-clients says:
                    // the nodes connect with the client certificate (the server's is for serverAuth only).
                    arguments.AddRange(["--tls-client-cert-file", ClientCertificateFile!, "--tls-client-key-file", ClientKeyFile!]);
                    arguments.AddRange(["--user", "default", "off", "--user", User!, "on", ">" + Password, "~*", "&*", "+@all", "--masteruser", User!, "--masterauth", Password!]);
                }
                else
                {
                    arguments.AddRange(["--port", port.ToString(CultureInfo.InvariantCulture)]);
                }

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
        var create = new List<string>(CliSecurity()) { "--cluster", "create" };
        create.AddRange(_ports.Select(p => "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture)));
        create.AddRange(["--cluster-replicas", _replicasPerMaster.ToString(CultureInfo.InvariantCulture), "--cluster-yes"]);
        var (exit, output) = await RunProcessAsync(cli, create, CliEnvironment()).ConfigureAwait(false);
        if (exit != 0)
        {
            throw new InvalidOperationException("redis-cli --cluster create failed: " + output + "\n" + Snapshot(_log));
        }

        // Every node must know the whole slot map before a client asks any of them, and every replica must have its master's
        // data (a replica still loading cannot take over).
        var clock = Stopwatch.StartNew();
        foreach (var port in _ports)
        {
            while (true)
            {
                var (_, state) = await CliAsync(port, "cluster", "info").ConfigureAwait(false);
                var (_, replication) = await CliAsync(port, "info", "replication").ConfigureAwait(false);
                var isReplica = replication.Contains("role:slave", StringComparison.Ordinal);
                if (state.Contains("cluster_state:ok", StringComparison.Ordinal)
                    && (!isReplica || replication.Contains("master_link_status:up", StringComparison.Ordinal)))
                {
                    break;
                }

                if (clock.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new InvalidOperationException($"node {port} did not reach cluster_state:ok (and, for a replica, its master's data): {state}\n{replication}");
                }

                await Task.Delay(100).ConfigureAwait(false);
            }
        }

        _masterPorts.AddRange((await ClusterNodesAsync().ConfigureAwait(false)).Where(n => n.IsMaster).Select(n => n.Port).Order());
        if (_masterPorts.Count != Masters)
        {
            throw new InvalidOperationException($"redis-cli --cluster create made {_masterPorts.Count} masters, not {Masters}: {output}");
        }

        Port = _masterPorts[0];
        _ready = true;
    }

    /// <summary>One line of <c>CLUSTER NODES</c>: a node's id, client port, whether it is a master now, whether the others
    /// flag it failed, the id of the master it replicates (null for a master) and the slots it serves.</summary>
    public sealed record ClusterNode(string Id, int Port, bool IsMaster, bool Failed, string? MasterId, IReadOnlyList<(int From, int To)> Slots);

    /// <summary>The cluster as a node that is still running sees it.</summary>
    public async Task<IReadOnlyList<ClusterNode>> ClusterNodesAsync()
    {
        var (_, text) = await CliAsync(AliveNodePort(), "cluster", "nodes").ConfigureAwait(false);
        var nodes = new List<ClusterNode>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // <id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <state> <slot ranges…>
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 8)
            {
                continue;
            }

            var port = int.Parse(f[1][(f[1].IndexOf(':', StringComparison.Ordinal) + 1)..f[1].IndexOf('@', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
            var flags = f[2].Split(',');
            var slots = new List<(int, int)>();
            foreach (var range in f.Skip(8).Where(r => !r.StartsWith('[')))
            {
                var dash = range.IndexOf('-', StringComparison.Ordinal);
                var lo = int.Parse(dash < 0 ? range : range[..dash], CultureInfo.InvariantCulture);
                slots.Add((lo, dash < 0 ? lo : int.Parse(range[(dash + 1)..], CultureInfo.InvariantCulture)));
            }

            nodes.Add(new ClusterNode(f[0], port, flags.Contains("master"), flags.Contains("fail"), f[3] == "-" ? null : f[3], slots));
        }

        return nodes;
    }

    /// <summary>Kills the node on <paramref name="port"/> at once (SIGKILL: no shutdown, no last replication).</summary>
    public async Task KillNodeAsync(int port)
    {
        var process = _processes[_ports.IndexOf(port)];
        process.Kill();
        await process.WaitForExitAsync().ConfigureAwait(false);
    }

    /// <summary>Waits until every master's replicas have acknowledged all it has written, so that a master killed next loses nothing.</summary>
    public async Task WaitForReplicasInSyncAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        foreach (var node in (await ClusterNodesAsync().ConfigureAwait(false)).Where(n => n.IsMaster && !n.Failed))
        {
            await WaitForReplicasAsync(async () => (await CliAsync(node.Port, "info", "replication").ConfigureAwait(false)).Output, _replicasPerMaster, clock, timeout, node.Port.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits until the cluster has failed over from the killed master on <paramref name="lostPort"/>: its replica is a master
    /// serving its slots and every running node says <c>cluster_state:ok</c>. Returns the new master's port.
    /// </summary>
    public async Task<int> WaitForFailoverAsync(int lostPort, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var nodes = await ClusterNodesAsync().ConfigureAwait(false);
            var lost = nodes.Single(n => n.Port == lostPort);
            var successor = nodes.FirstOrDefault(n => n.Port != lostPort && n.IsMaster && !n.Failed && lost.Slots.Count == 0 && n.Slots.Count > 0
                && _processes[_ports.IndexOf(n.Port)] is { HasExited: false } && !_masterPorts.Contains(n.Port));
            if (successor is not null)
            {
                var ok = true;
                foreach (var port in _ports.Where((_, i) => !_processes[i].HasExited))
                {
                    ok &= (await CliAsync(port, "cluster", "info").ConfigureAwait(false)).Output.Contains("cluster_state:ok", StringComparison.Ordinal);
                }

                if (ok)
                {
                    return successor.Port;
                }
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"no failover from {lostPort} within {timeout}: " + string.Join("; ", nodes));
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>Moves <paramref name="slots"/> slots, with their keys, from one master to another (<c>redis-cli --cluster reshard</c>).</summary>
    public async Task<(int Exit, string Output)> ReshardAsync(int fromPort, int toPort, int slots)
    {
        var nodes = await ClusterNodesAsync().ConfigureAwait(false);
        var cli = FindProgram("redis-cli")!;
        return await RunProcessAsync(cli,
        [
            .. CliSecurity(), "--cluster", "reshard", "127.0.0.1:" + fromPort.ToString(CultureInfo.InvariantCulture),
            "--cluster-from", nodes.Single(n => n.Port == fromPort).Id, "--cluster-to", nodes.Single(n => n.Port == toPort).Id,
            "--cluster-slots", slots.ToString(CultureInfo.InvariantCulture), "--cluster-yes",
        ], CliEnvironment()).ConfigureAwait(false);
    }

    /// <summary>The port of the master that serves <paramref name="key"/>'s slot (asked with <c>CLUSTER KEYSLOT</c> and <c>CLUSTER NODES</c> through redis-cli).</summary>
    public async Task<int> MasterOfAsync(string key)
    {
        var (_, slotText) = await CliAsync(AliveNodePort(), "cluster", "keyslot", key).ConfigureAwait(false);
        var slot = int.Parse(slotText.Trim(), CultureInfo.InvariantCulture);
        var nodes = await ClusterNodesAsync().ConfigureAwait(false);
        return nodes.FirstOrDefault(n => n.IsMaster && !n.Failed && n.Slots.Any(r => slot >= r.From && slot <= r.To))?.Port
            ?? throw new InvalidOperationException($"no master serves slot {slot} of '{key}': " + string.Join("; ", nodes));
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

        await base.DisposeAsync().ConfigureAwait(false);
    }

    private int AliveNodePort() => _ports.Where((_, i) => !_processes[i].HasExited).First();

    private Task<(int Exit, string Output)> CliAsync(int port, params string[] command) =>
        RunProcessAsync(FindProgram("redis-cli")!, [.. CliSecurity(), "-p", port.ToString(CultureInfo.InvariantCulture), .. command], CliEnvironment());

    // redis-cli over TLS as the ACL user; the password goes in REDISCLI_AUTH (on the command line it adds a warning to the output).
    private string[] CliSecurity() => Tls ? ["--tls", "--cacert", CaFile!, "--user", User!] : [];

    private Dictionary<string, string> CliEnvironment() => Tls ? new() { ["REDISCLI_AUTH"] = Password! } : [];
}

/// <summary>
/// A Redis Cluster of three masters, each with one replica (six nodes), and a <c>cluster-node-timeout</c> of one second: a
/// killed master's replica takes over in about two seconds.
/// </summary>
public sealed class RedisClusterWithReplicasFixture : RedisClusterFixture
{
    public RedisClusterWithReplicasFixture()
        : base(replicasPerMaster: 1, nodeTimeoutMs: 1000, secure: false)
    {
    }
}

/// <summary>
/// A three-master Redis Cluster that speaks only TLS (to clients, on the cluster bus and for replication; certificates
/// from the fixture's own CA, for 127.0.0.1), with the <c>default</c> user off and an ACL user with a password: what a
/// managed Redis Cluster with encryption in transit and authentication offers.
/// </summary>
public sealed class SecureRedisClusterFixture : RedisClusterFixture
{
    public SecureRedisClusterFixture()
        : base(replicasPerMaster: 0, nodeTimeoutMs: 5000, secure: true)
    {
    }
}
