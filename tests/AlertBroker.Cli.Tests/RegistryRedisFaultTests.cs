namespace AlertBroker.Cli.Tests;

/// <summary>
/// A registry Redis that answers but refuses writes (at maxmemory under noeviction), or that holds a damaged package: said
/// as such, exit 1.
/// </summary>
public sealed class RegistryRedisFaultTests : IClassFixture<RedisServerFixture>, IDisposable
{
    private readonly RedisServerFixture _redis;
    private readonly string _root = Directory.CreateTempSubdirectory("ab-full-redis-").FullName;

    public RegistryRedisFaultTests(RedisServerFixture redis)
    {
        _redis = redis;
        Assert.True(redis.Available, redis.UnavailableReason);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // Found by the registry hunt (2026-12-08): a Redis that stops answering mid-command (CLIENT PAUSE WRITE here; a
    // failover or a lost connection alike) gave the client's raw "Timeout awaiting response (outbound=…)", exit 1, though
    // the change may have been made. It is an unreachable service (exit 4), and the operator is told to check first.
    [Fact]
    public async Task ModelsWrite_RedisStopsAnsweringMidCommand_ExitFourSayingTheOutcomeIsUnknown()
    {
        var prefix = "paused-" + Guid.NewGuid().ToString("N")[..8];
        await _redis.ExecuteAsync("CLIENT", "PAUSE", "30000", "WRITE");
        AlertBrokerProcess.Finished run;
        try
        {
            run = await AlertBrokerProcess.RunToEndAsync(["models", "metadata", "set", "--redis", _redis.Configuration, "--prefix", prefix, "--survey", "ztf", "--source", "label", "--csv", "/data/labels.csv"]);
        }
        finally
        {
            await _redis.ExecuteAsync("CLIENT", "UNPAUSE");
        }

        Assert.True(run.Code == 4, $"exit {run.Code}: {run.Output}");
        Assert.Contains("the registry's Redis stopped answering (timeout): whether this command's change was made is unknown; check with 'alertbroker models status' before trying again", run.Stderr, StringComparison.Ordinal);
    }

    // Another program's string where the registry keeps a set: Redis's "WRONGTYPE Operation against a key holding the
    // wrong kind of value" named no key; the key, both types and the way out are said.
    [Fact]
    public async Task ModelsStatus_RegistryKeyOfTheWrongType_NamesTheKey()
    {
        var (prefix, key) = await RegistryWithAStringForItsSurveysAsync("wt");

        var run = await AlertBrokerProcess.RunToEndAsync(["models", "status", "--redis", _redis.Configuration, "--prefix", prefix]);

        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Contains("WRONGTYPE", run.Stderr, StringComparison.Ordinal);
        Assert.Contains(key + " is a string where the registry keeps a set", run.Stderr, StringComparison.Ordinal);
        Assert.Contains($"Another program writes under the registry's prefix '{prefix}'", run.Stderr, StringComparison.Ordinal);
    }

    // A worker started on such a registry ended "fatal: RedisServerException: WRONGTYPE …", exit 70 (a bug or librdkafka),
    // naming no key: it is a registry the worker cannot trust, exit 3, with the key and the way out.
    [Fact]
    public async Task Run_RegistryKeyOfTheWrongType_ExitThreeNamingTheKey()
    {
        var (prefix, key) = await RegistryWithAStringForItsSurveysAsync("wr");

        var run = await AlertBrokerProcess.RunToEndAsync(
            ["run", "--bootstrap-servers", "127.0.0.1:1", "--topic", "ztf", "--in-memory", "--model-registry-redis", _redis.Configuration, "--http-port", "0"],
            new Dictionary<string, string?> { ["AlertBroker__Model__RegistryPrefix"] = prefix });

        Assert.True(run.Code == 3, $"exit {run.Code}: {run.Output}");
        Assert.Contains("model registry: WRONGTYPE", run.Stderr, StringComparison.Ordinal);
        Assert.Contains(key + " is a string where the registry keeps a set", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("fatal", run.Output, StringComparison.Ordinal);
    }

    // score --redis reads the registry's active model per survey with its own handler, which knew only the registry's own
    // errors: another program's list at the active pointer ended "fatal: RedisServerException: WRONGTYPE …" (exit 70).
    [SharedDataFact]
    public async Task Score_RegistryKeyOfTheWrongType_ExitOneNamingTheKey()
    {
        var (prefix, _) = await RegistryWithAStringForItsSurveysAsync("ws");
        var key = "{" + prefix + "}:models:active:ztf";
        await _redis.ExecuteAsync("DEL", key);
        await _redis.ExecuteAsync("RPUSH", key, "another program's value");

        var run = await AlertBrokerProcess.RunToEndAsync(["score", SharedData.AvroFiles("ztf-real-50").First(), "--redis", _redis.Configuration, "--prefix", prefix]);

        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Contains("model registry: WRONGTYPE", run.Stderr, StringComparison.Ordinal);
        Assert.Contains(key + " is a list where the registry keeps a string", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("fatal", run.Output, StringComparison.Ordinal);
    }

    /// <summary>A registry with one model promoted, then another program's string put where it keeps its set of surveys.</summary>
    private async Task<(string Prefix, string Key)> RegistryWithAStringForItsSurveysAsync(string name)
    {
        var prefix = name + Guid.NewGuid().ToString("N")[..8];
        var package = TestModelPackages.Export(Path.Combine(_root, name), name + "-gru", "1", 3, classes: ["a", "b"]);
        string[] connection = ["--redis", _redis.Configuration, "--prefix", prefix];
        Assert.Equal(0, (await AlertBrokerProcess.RunToEndAsync(["models", "push", package, .. connection])).Code);
        Assert.Equal(0, (await AlertBrokerProcess.RunToEndAsync(["models", "promote", name + "-gru@1", "--force", .. connection])).Code);
        var key = "{" + prefix + "}:models:surveys";
        await _redis.ExecuteAsync("DEL", key);
        Assert.StartsWith("+OK", await _redis.ExecuteAsync("SET", key, "not a set"), StringComparison.Ordinal);
        return (prefix, key);
    }

    // An ACL user that may read the registry but not write it: "NOPERM this user has no permissions to access one of the
    // keys used as arguments", naming nothing to grant. Now the keys and the grant are said; push, promote and metadata
    // set write nothing (Redis checks a script's keys before running it) and exit 1.
    [Fact]
    public async Task ModelsWrites_ReadOnlyAclUser_ExitOneSayingWhatToGrant_NothingWritten()
    {
        var prefix = "ro" + Guid.NewGuid().ToString("N")[..8];
        var user = "u" + prefix;
        var package = TestModelPackages.Export(Path.Combine(_root, "ro"), "ro-gru", "1", 3, classes: ["a", "b"]);
        var package2 = TestModelPackages.Export(Path.Combine(_root, "ro2"), "ro-gru", "2", 4, classes: ["a", "b"]);
        string[] connection = ["--redis", _redis.Configuration, "--prefix", prefix];
        Assert.Equal(0, (await AlertBrokerProcess.RunToEndAsync(["models", "push", package, .. connection])).Code);
        Assert.StartsWith("+OK", await _redis.ExecuteAsync("ACL", "SETUSER", user, "on", ">pw-" + user, "%R~*", "&*", "+@all"), StringComparison.Ordinal);
        try
        {
            var environment = new Dictionary<string, string?> { ["ALERTBROKER_REDIS_PASSWORD"] = "pw-" + user };
            string[][] writes =
            [
                ["models", "push", package2, .. connection, "--redis-user", user],
                ["models", "promote", "ro-gru@1", "--force", .. connection, "--redis-user", user],
                ["models", "metadata", "set", .. connection, "--redis-user", user, "--survey", "ztf", "--source", "label", "--redis-hash", "labels"],
            ];
            foreach (var args in writes)
            {
                var run = await AlertBrokerProcess.RunToEndAsync(args, environment);

                Assert.True(run.Code == 1, $"{string.Join(' ', args[..2])}: exit {run.Code}: {run.Output}");
                Assert.Contains("NOPERM", run.Stderr, StringComparison.Ordinal);
                Assert.Contains($"The Redis user may not use the registry's keys ({{{prefix}}}:*)", run.Stderr, StringComparison.Ordinal);
            }

            var list = await AlertBrokerProcess.RunToEndAsync(["models", "list", .. connection]);
            Assert.Equal(0, list.Code);
            Assert.Equal(":0", await _redis.ExecuteAsync("EXISTS", "{" + prefix + "}:model:ro-gru@2:info", "{" + prefix + "}:models:active:ztf", "{" + prefix + "}:models:audit", "{" + prefix + "}:models:metadata"));
        }
        finally
        {
            await _redis.ExecuteAsync("ACL", "DELUSER", user);
        }
    }

    [Fact]
    public async Task ModelsPush_RedisFull_SaysItRefusesWritesAndWhatToDo()
    {
        // Was Redis's raw "OOM command not allowed when used memory > 'maxmemory'. script: 6872…, on @user_script:7.".
        var package = TestModelPackages.Export(Path.Combine(_root, "v1"), "full", "1", 3, classes: ["a", "b"]);
        Assert.StartsWith("+OK", await _redis.ExecuteAsync("CONFIG", "SET", "maxmemory", "1"), StringComparison.Ordinal);
        AlertBrokerProcess.Finished run;
        try
        {
            run = await AlertBrokerProcess.RunToEndAsync(["models", "push", package, "--redis", _redis.Configuration]);
        }
        finally
        {
            await _redis.ExecuteAsync("CONFIG", "SET", "maxmemory", "0");
        }

        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Contains("Redis refuses writes: it is full (used memory over maxmemory, with a policy that evicts nothing): raise maxmemory or add shards (OOM command not allowed when used memory > 'maxmemory'.)", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("script:", run.Stderr, StringComparison.Ordinal);

        // Room again: the same push goes through.
        var again = await AlertBrokerProcess.RunToEndAsync(["models", "push", package, "--redis", _redis.Configuration]);
        Assert.True(again.Code == 0, again.Output);
    }

    [Fact]
    public async Task ModelsStatus_ActiveModelsPackageDamaged_SaysSoAndExitsOne()
    {
        // A damaged manifest key left status and list at exit 0 with nothing to see; workers refused the model meanwhile.
        var prefix = "dmg" + Guid.NewGuid().ToString("N")[..8];
        string[] registry = ["--redis", _redis.Configuration, "--prefix", prefix];
        var package = TestModelPackages.Export(Path.Combine(_root, "v1"), "dmg", "1", 3, classes: ["a", "b"]);
        Assert.Equal(0, (await AlertBrokerProcess.RunToEndAsync(["models", "push", package, .. registry])).Code);
        Assert.Equal(0, (await AlertBrokerProcess.RunToEndAsync(["models", "promote", "dmg@1", .. registry])).Code);
        var whole = await AlertBrokerProcess.RunToEndAsync(["models", "status", .. registry]);
        Assert.True(whole.Code == 0, whole.Output);
        Assert.DoesNotContain("cannot be served", whole.Output, StringComparison.Ordinal);

        Assert.StartsWith("+OK", await _redis.ExecuteAsync("SET", "{" + prefix + "}:model:dmg@1:manifest", "xx"), StringComparison.Ordinal);
        var status = await AlertBrokerProcess.RunToEndAsync(["models", "status", .. registry]);
        Assert.True(status.Code == 1, $"exit {status.Code}: {status.Output}");
        Assert.Contains("active model: dmg@1", status.Stdout, StringComparison.Ordinal);
        // The registry's record of the manifest's SHA-256 finds it first (2026-12-06; before, the manifest's own check said
        // "InvalidJson: model.json is not a valid manifest").
        static string Compact(string text) => string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
        Assert.Contains(Compact("its stored package cannot be served: dmg@1: stored model.json has SHA-256"), Compact(status.Stdout), StringComparison.Ordinal);

        var json = await AlertBrokerProcess.RunToEndAsync(["models", "status", "--json", .. registry]);
        Assert.True(json.Code == 1, $"exit {json.Code}: {json.Output}");
        Assert.Contains(Compact("active model dmg@1 cannot be served: dmg@1: stored model.json has SHA-256"), Compact(json.Stderr), StringComparison.Ordinal);
    }
}
