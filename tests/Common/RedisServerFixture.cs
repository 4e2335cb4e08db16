using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace AlertBroker.Tests.Common;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, without persistence, for the duration of a test class. Tests use
/// unique key prefixes so they never see each other's keys. When redis-server is not installed, <see cref="Available"/> is
/// false and the Redis tests report that they were skipped.
/// </summary>
/// <remarks>
/// The secure variants (<see cref="SecureRedisServerFixture"/>, <see cref="MutualTlsRedisServerFixture"/>) switch the
/// <c>default</c> user off, create an ACL user with a random password, and listen only on a TLS port, with a CA, a server
/// certificate (for 127.0.0.1 and localhost), a client certificate and an unrelated CA made by <c>openssl</c> in the
/// server's temporary directory.
/// </remarks>
public class RedisServerFixture : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "ab-redis-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly bool _secure;
    private readonly bool _requireClientCertificate;
    private Process? _process;

    public RedisServerFixture()
        : this(secure: false, requireClientCertificate: false)
    {
    }

    protected RedisServerFixture(bool secure, bool requireClientCertificate, bool requirePassword = false)
    {
        _secure = secure;
        _requireClientCertificate = requireClientCertificate;
        if (secure)
        {
            User = "alertbroker";
            Password = "pw-" + Guid.NewGuid().ToString("N");
        }
        else if (requirePassword)
        {
            // Spaces, as StackExchange.Redis accepts in a password=: a redaction that stops at one leaves the rest shown.
            User = "alertbroker";
            Password = "S3cret " + Guid.NewGuid().ToString("N") + " pw";
        }
    }

    /// <summary>The port clients connect to (the TLS port for a secure server).</summary>
    public int Port { get; protected set; }

    public virtual bool Available => _process is { HasExited: false };

    /// <summary>Why the server is not available (redis-server or openssl missing), when it is not.</summary>
    public string UnavailableReason { get; protected set; } = "redis-server is not installed (run eng/setup.sh)";

    /// <summary>The endpoint, <c>127.0.0.1:PORT</c>; a secure server also needs <see cref="User"/>, <see cref="Password"/> and TLS, a password-protected one the password.</summary>
    public virtual string Configuration => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>The ACL user (secure and password-protected servers only; the <c>default</c> user is off on a secure one).</summary>
    public string? User { get; }

    public string? Password { get; }

    public bool Tls => _secure;

    /// <summary>PEM of the CA that issued the server's (and the client's) certificate.</summary>
    public string? CaFile { get; private set; }

    /// <summary>PEM of a CA that issued nothing this server shows: trusting only it must fail the handshake.</summary>
    public string? OtherCaFile { get; private set; }

    public string? ClientCertificateFile { get; private set; }

    public string? ClientKeyFile { get; private set; }

    /// <summary>Whether the server refuses TLS clients without a certificate issued by <see cref="CaFile"/>.</summary>
    public bool RequiresClientCertificate => _requireClientCertificate;

    public static string? FindServer() => FindProgram("redis-server");

    public virtual async Task InitializeAsync()
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

        Directory.CreateDirectory(_dataDir);
        if (_secure && CaFile is null && !await MakeCertificatesAsync().ConfigureAwait(false))
        {
            return;
        }

        // A free port can be taken by another process between TestPorts.Free and redis-server's bind (tests run in parallel):
        // a server that could not bind a port it was not asked for is started again on another one.
        for (var attempt = 1; ; attempt++)
        {
            Port = port != 0 ? port : TestPorts.Free();
            var portText = Port.ToString(CultureInfo.InvariantCulture);
            var arguments = new List<string> { "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no", "--dir", _dataDir };
            if (_secure)
            {
                arguments.AddRange(["--port", "0", "--tls-port", portText]);
                arguments.AddRange(["--tls-cert-file", Path.Combine(_dataDir, "server.crt"), "--tls-key-file", Path.Combine(_dataDir, "server.key")]);
                arguments.AddRange(["--tls-ca-cert-file", CaFile!, "--tls-auth-clients", _requireClientCertificate ? "yes" : "no"]);
                arguments.AddRange(["--user", "default", "off"]);
                arguments.AddRange(["--user", User!, "on", ">" + Password, "~*", "&*", "+@all"]);
            }
            else
            {
                arguments.AddRange(["--port", portText]);
                if (Password is not null)
                {
                    arguments.AddRange(["--requirepass", Password]);
                    arguments.AddRange(["--user", User!, "on", ">" + Password, "~*", "&*", "+@all"]);
                }
            }

            var log = new StringBuilder();
            var (process, portTaken) = await LaunchAsync(server, arguments, log).ConfigureAwait(false);
            if (process is not null)
            {
                _process = process;
                return;
            }

            if (!portTaken || port != 0 || attempt == MaxStartAttempts)
            {
                UnavailableReason = "redis-server exited at start: " + Snapshot(log);
                return;
            }
        }
    }

    /// <summary>How many free ports a fixture tries before it gives up.</summary>
    protected const int MaxStartAttempts = 5;

    /// <summary>
    /// Starts <paramref name="server"/> with <paramref name="arguments"/> and waits for its own "Ready to accept connections"
    /// line, or <paramref name="readyLine"/> (a connection alone could reach another process on a taken port). Returns the
    /// running process, or null when it exited; <c>PortTaken</c> says it exited because a port it was to bind was in use.
    /// </summary>
    protected static async Task<(Process? Process, bool PortTaken)> LaunchAsync(string server, IEnumerable<string> arguments, StringBuilder log, string readyLine = "Ready to accept connections")
    {
        var info = new ProcessStartInfo(server) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) =>
        {
            Append(log, e.Data);
            if (e.Data?.Contains(readyLine, StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(ready.Task, exited, Task.Delay(TimeSpan.FromSeconds(20))).ConfigureAwait(false);
        if (first == ready.Task)
        {
            return (process, false);
        }

        if (first == exited)
        {
            await Task.Delay(50).ConfigureAwait(false); // the last lines of its output
            process.Dispose();
            return (null, Snapshot(log).Contains("Address already in use", StringComparison.Ordinal));
        }

        process.Kill();
        await process.WaitForExitAsync().ConfigureAwait(false);
        process.Dispose();
        throw new InvalidOperationException("redis-server did not become ready within 20 s: " + Snapshot(log));
    }

    /// <summary>
    /// Sends one command as an administrator (over TLS and with the ACL user on a secure server) and returns the first
    /// line of the reply.
    /// </summary>
    public async Task<string> ExecuteAsync(params string[] command)
    {
        ArgumentNullException.ThrowIfNull(command);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port).ConfigureAwait(false);
        Stream stream = client.GetStream();
        SslStream? tls = null;
        try
        {
            if (_secure)
            {
                // Our own server on loopback: the client checks nothing, but presents its certificate where one is required.
#pragma warning disable CA5359 // the test administrator does not validate its own server's certificate
                tls = new SslStream(stream, leaveInnerStreamOpen: false, (_, _, _, _) => true);
#pragma warning restore CA5359
                var options = new SslClientAuthenticationOptions { TargetHost = "localhost" };
                if (_requireClientCertificate)
                {
                    options.ClientCertificates = [X509Certificate2.CreateFromPemFile(ClientCertificateFile!, ClientKeyFile)];
                }

                await tls.AuthenticateAsClientAsync(options).ConfigureAwait(false);
                stream = tls;
            }

            if (Password is not null)
            {
                var auth = await SendAsync(stream, ["AUTH", User!, Password]).ConfigureAwait(false);
                if (!auth.StartsWith("+OK", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException("AUTH failed: " + auth);
                }
            }

            return await SendAsync(stream, command).ConfigureAwait(false);
        }
        finally
        {
            if (tls is not null)
            {
                await tls.DisposeAsync().ConfigureAwait(false);
            }
        }
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
            try
            {
                await ExecuteAsync("SHUTDOWN", "SAVE").ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The server may close the connection before its reply arrives.
            }

            await p.WaitForExitAsync().ConfigureAwait(false);
            p.Dispose();
            _process = null;
        }

        await Task.Delay(downtime).ConfigureAwait(false);
        await StartAsync(Port).ConfigureAwait(false);
    }

    public virtual async Task DisposeAsync()
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

    private static async Task<string> SendAsync(Stream stream, string[] command)
    {
        var request = new StringBuilder();
        request.Append('*').Append(command.Length.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        foreach (var part in command)
        {
            request.Append('$').Append(Encoding.UTF8.GetByteCount(part).ToString(CultureInfo.InvariantCulture)).Append("\r\n").Append(part).Append("\r\n");
        }

        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString())).ConfigureAwait(false);
        await stream.FlushAsync().ConfigureAwait(false);
        var buffer = new byte[4096];
        var n = await stream.ReadAsync(buffer).ConfigureAwait(false);
        var reply = Encoding.UTF8.GetString(buffer, 0, n);
        var end = reply.IndexOf("\r\n", StringComparison.Ordinal);
        return end < 0 ? reply : reply[..end];
    }

    /// <summary>Makes the CA, server and client certificates (see the class remarks) in the fixture's directory; false, with
    /// <see cref="UnavailableReason"/>, when openssl is missing.</summary>
    protected async Task<bool> MakeCertificatesAsync()
    {
        Directory.CreateDirectory(_dataDir);
        if (FindProgram("openssl") is not { } openssl)
        {
            UnavailableReason = "openssl is not installed (run eng/setup.sh)";
            return false;
        }

        string F(string name) => Path.Combine(_dataDir, name);
        await File.WriteAllTextAsync(F("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n").ConfigureAwait(false);
        await File.WriteAllTextAsync(F("client.ext"), "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n").ConfigureAwait(false);
        string[][] steps =
        [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", F("ca.key"), "-out", F("ca.crt"), "-days", "2", "-subj", "/CN=AlertBroker test CA"],
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", F("other-ca.key"), "-out", F("other-ca.crt"), "-days", "2", "-subj", "/CN=AlertBroker unrelated CA"],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", F("server.key"), "-out", F("server.csr"), "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", F("server.csr"), "-CA", F("ca.crt"), "-CAkey", F("ca.key"), "-CAcreateserial", "-out", F("server.crt"), "-days", "2", "-extfile", F("server.ext")],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", F("client.key"), "-out", F("client.csr"), "-subj", "/CN=alertbroker-test-client"],
            ["x509", "-req", "-in", F("client.csr"), "-CA", F("ca.crt"), "-CAkey", F("ca.key"), "-CAcreateserial", "-out", F("client.crt"), "-days", "2", "-extfile", F("client.ext")],
        ];
        foreach (var step in steps)
        {
            var info = new ProcessStartInfo(openssl) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in step)
            {
                info.ArgumentList.Add(a);
            }

            using var process = Process.Start(info)!;
            var stderr = process.StandardError.ReadToEndAsync();
            _ = await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
            await process.WaitForExitAsync().ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException("openssl " + string.Join(' ', step) + " failed: " + await stderr.ConfigureAwait(false));
            }
        }

        CaFile = F("ca.crt");
        OtherCaFile = F("other-ca.crt");
        ClientCertificateFile = F("client.crt");
        ClientKeyFile = F("client.key");
        return true;
    }

    /// <summary>
    /// Runs a program (redis-cli) to its end and returns its exit code and output (stdout, then stderr). One that has not
    /// ended within a minute is killed (redis-cli waits for ever where a cluster does not form) and gives exit code -1.
    /// </summary>
    protected static async Task<(int Exit, string Output)> RunProcessAsync(string program, IEnumerable<string> args, Dictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment ?? [])
        {
            info.Environment[name] = value;
        }

        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync().ConfigureAwait(false);
            return (-1, $"{program} {string.Join(' ', args)}: no answer within 60 s, killed: " + await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false));
        }

        return (process.ExitCode, await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false));
    }

    /// <summary>
    /// Waits until a primary's <c>INFO replication</c> (read by <paramref name="readInfo"/>) lists <paramref name="replicas"/>
    /// online replicas whose offsets equal its own, so that the primary killed next loses nothing. Its periodic pings to the
    /// replicas also advance the offset, so the two are compared in one reading, again until they agree.
    /// </summary>
    protected static async Task WaitForReplicasAsync(Func<Task<string>> readInfo, int replicas, Stopwatch clock, TimeSpan timeout, string primary)
    {
        while (true)
        {
            var info = await readInfo().ConfigureAwait(false);
            var lines = info.Split('\n', StringSplitOptions.TrimEntries);
            var own = lines.FirstOrDefault(l => l.StartsWith("master_repl_offset:", StringComparison.Ordinal))?["master_repl_offset:".Length..];
            var online = lines.Where(l => l.StartsWith("slave", StringComparison.Ordinal) && l.Contains("state=online", StringComparison.Ordinal)).ToList();
            if (own is not null && online.Count == replicas && online.TrueForAll(l => l.Contains("offset=" + own + ",", StringComparison.Ordinal)))
            {
                return;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"the replicas of {primary} did not catch up: {info}");
            }

            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    protected static string? FindProgram(string name)
    {
        foreach (var dir in new[] { "/usr/bin", "/usr/local/bin", "/usr/sbin" })
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    protected static void Append(StringBuilder log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            if (log.Length < 8192)
            {
                log.AppendLine(line);
            }
        }
    }

    protected static string Snapshot(StringBuilder log)
    {
        lock (log)
        {
            return log.ToString();
        }
    }
}

/// <summary>A redis-server with an ACL user and password (the <c>default</c> user off) that speaks only TLS.</summary>
public sealed class SecureRedisServerFixture : RedisServerFixture
{
    public SecureRedisServerFixture()
        : base(secure: true, requireClientCertificate: false)
    {
    }
}

/// <summary>
/// A plain (no TLS) redis-server that requires a password: the <c>default</c> user's (<c>requirepass</c>) and an ACL user
/// <see cref="RedisServerFixture.User"/> with the same one, which holds spaces.
/// </summary>
public sealed class PasswordRedisServerFixture : RedisServerFixture
{
    public PasswordRedisServerFixture()
        : base(secure: false, requireClientCertificate: false, requirePassword: true)
    {
    }
}

/// <summary>As <see cref="SecureRedisServerFixture"/>, and the server requires a client certificate issued by its CA.</summary>
public sealed class MutualTlsRedisServerFixture : RedisServerFixture
{
    public MutualTlsRedisServerFixture()
        : base(secure: true, requireClientCertificate: true)
    {
    }
}
