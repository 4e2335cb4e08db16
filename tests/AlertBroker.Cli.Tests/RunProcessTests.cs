using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using AlertBroker.Worker.Kafka;
using Confluent.Kafka;

namespace AlertBroker.Cli.Tests;

/// <summary>The real <c>alertbroker run</c> as a child process against librdkafka's mock cluster.</summary>
public sealed partial class RunProcessTests : IDisposable
{
    private readonly ConcurrentQueue<string> _mockLog = new();
    private readonly MockKafkaCluster _kafka;

    public RunProcessTests()
    {
        // Every broker response 1.5 s late: the time between a member's JoinGroup response and its SyncGroup response (when
        // it is elected but has no assignment yet) becomes wide enough to stop the worker inside it on purpose.
        _kafka = MockKafkaCluster.Start(
            settings: new Dictionary<string, string> { ["test.mock.broker.rtt"] = RoundTripMs.ToString(System.Globalization.CultureInfo.InvariantCulture), ["debug"] = "mock" },
            log: _mockLog.Enqueue);
    }

    public void Dispose() => _kafka.Dispose();

    /// <summary>
    /// With Confluent.Kafka 1.9.3 on librdkafka 2.0.2, closing a cooperative-sticky consumer after its JoinGroup response and
    /// before its first assignment hit <c>rd_kafka_sticky_assignor_state_destroy: Assertion `assignor_state' failed</c>: the
    /// process aborted (exit 134; this test, run against that build, failed so three times out of three).
    /// </summary>
    [Fact]
    public async Task Run_SigtermBeforeFirstAssignment_ExitsZeroOnPackagedLibrdkafkaAndGroupRecovers()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // SIGTERM is sent with kill(2); the project runs on Linux.
        }

        var id = Guid.NewGuid().ToString("N")[..8];
        var topic = "in-" + id;
        var group = "g-" + id;
        _kafka.CreateTopics(topic);

        using var worker = StartCli(
            "run", "--bootstrap-servers", _kafka.BootstrapServers, "--topic", topic, "--group", group,
            "--in-memory", "--random-model", "--http-port", "0");
        var output = new ConcurrentQueue<string>();
        var starting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            output.Enqueue(line);
            if (line.Contains("Worker starting", StringComparison.Ordinal))
            {
                starting.TrySetResult();
            }
        }

        worker.OutputDataReceived += (_, e) => OnLine(e.Data);
        worker.ErrorDataReceived += (_, e) => OnLine(e.Data);
        worker.BeginOutputReadLine();
        worker.BeginErrorReadLine();
        try
        {
            var started = await Task.WhenAny(starting.Task, Task.Delay(TimeSpan.FromSeconds(90))) == starting.Task;
            Assert.True(started, "the worker did not start within 90 s:\n" + string.Join('\n', output));

            // SIGTERM once the worker has the coordinator's JoinGroup answer (a member, protocol chosen) but no assignment yet.
            var elected = "Consumer group " + group + " with 1 member(s) is rebalancing";
            var waiting = Stopwatch.StartNew();
            while (!_mockLog.Any(l => l.Contains(elected, StringComparison.Ordinal)) && waiting.Elapsed < TimeSpan.FromSeconds(60) && !worker.HasExited)
            {
                await Task.Delay(10);
            }

            Assert.True(_mockLog.Any(l => l.Contains(elected, StringComparison.Ordinal)), "the worker's JoinGroup was not answered:\n" + string.Join('\n', output));

            // The answer reaches the worker one round trip later; its SyncGroup answer one more round trip after that.
            await Task.Delay(TimeSpan.FromMilliseconds(RoundTripMs * 1.4));
            Assert.Equal(0, Kill(worker.Id, Sigterm));
            await worker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!worker.HasExited)
            {
                worker.Kill(entireProcessTree: true);
            }
        }

        worker.WaitForExit();
        var log = string.Join('\n', output);
        Assert.True(worker.ExitCode == 0, $"exit code {worker.ExitCode}; output:\n{log}");
        Assert.DoesNotContain("Partitions assigned", log, StringComparison.Ordinal);
        Assert.Matches(@"librdkafka 2\.(1[6-9]|[2-9]\d)\.\d+ from \S*centos8-librdkafka\.so", log);
        Assert.Contains("Shutting down", log, StringComparison.Ordinal);

        // The group is not held up by the stopped worker. Stopped between JoinGroup and SyncGroup, librdkafka 2.16 sends no
        // LeaveGroup (the mock's log shows none), so the coordinator drops the member when its session (6 s here) times
        // out; a newcomer then gets every partition. An aborted process would look the same to the group: what differs is
        // the exit code above (134 on Confluent.Kafka 1.9.3 + librdkafka 2.0.2 at exactly this point).
        var clock = Stopwatch.StartNew();
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = _kafka.BootstrapServers,
            GroupId = group,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            SessionTimeoutMs = SessionTimeoutMs,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Subscribe(topic);
        while (consumer.Assignment.Count < MockKafkaCluster.PartitionsPerTopic && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            consumer.Consume(TimeSpan.FromMilliseconds(200));
        }

        var assigned = consumer.Assignment.Count;
        var waited = clock.Elapsed;
        consumer.Close();
        Assert.True(assigned == MockKafkaCluster.PartitionsPerTopic, $"a new member of the group got {assigned} partitions in {waited.TotalSeconds:F1} s");
    }

    private const int SessionTimeoutMs = 6000;

    private const int RoundTripMs = 1500;

    private const int Sigterm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private static Process StartCli(params string[] args)
    {
        // The alertbroker program is copied into the test's output by the project reference; it runs from there, with the
        // checkout as working directory (where the ONNX Runtime of eng/setup.sh is found) and no AlertBroker variables.
        var psi = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "alertbroker.exe" : "alertbroker"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = SharedData.RepositoryRoot() ?? AppContext.BaseDirectory,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("AlertBroker__", StringComparison.OrdinalIgnoreCase) || k.Equals("LD_LIBRARY_PATH", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }

        psi.Environment["Logging__Console__FormatterName"] = "simple";
        psi.Environment["AlertBroker__Kafka__Properties__session.timeout.ms"] = SessionTimeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Process.Start(psi) ?? throw new InvalidOperationException("could not start " + psi.FileName);
    }
}
