using System.Globalization;
using AlertBroker.Alerts;
using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Registry;
using AlertBroker.State;
using AlertBroker.Worker.Enrichment;
using AlertBroker.Worker.Output;
using AlertBroker.Worker.Pipeline;
using AlertBroker.Worker.Scoring;
using AlertBroker.Worker.Simulation;
using Microsoft.Extensions.DependencyInjection;
using static AlertBroker.Worker.Tests.PipelineTestKit;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// Metadata a model declares (host redshift, E(B−V)) reaching the network from a configured source: a CSV file, or a Redis
/// hash read beside the batch's state read. Checked against the reference forward pass in C#.
/// </summary>
public sealed class MetadataSourceTests : IDisposable, IClassFixture<RedisServerFixture>
{
    private const int Hidden = 8;
    private static readonly string[] s_classes = ["SNIa", "SNII", "TDE"];
    private readonly string _root = Directory.CreateTempSubdirectory("ab-metadata-").FullName;
    private readonly RedisServerFixture _redis;

    public MetadataSourceTests(RedisServerFixture redis)
    {
        _redis = redis;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [OnnxFact]
    public async Task CsvSource_ValuesReachTheModel_EqualTheReferenceForwardPass_AndUnknownObjectsGetTheUnknownEncoding()
    {
        var (model, reference) = MetadataModel(seed: 41);
        using var _ = model;
        var alerts = SyntheticZtfAlerts.Generate(objects: 6, alertsPerObject: 4, seed: 8);
        var ids = alerts.Select(a => a.ObjectId).Distinct().ToList();

        // Values for four of the six objects; one of them has a value that is not a number (counted, unknown).
        var csv = Path.Combine(_root, "meta.csv");
        File.WriteAllLines(csv, [
            "object_id,redshift,ebv",
            $"{ids[0]},0.05,0.03",
            $"{ids[1]},0.31,",
            $"{ids[2]},,0.12",
            $"{ids[3]},nan-ish,0.02",
        ]);
        var sources = new MetadataSourceSet(new Dictionary<(string, string), IObjectValueSource>
        {
            [("ztf", "host-redshift")] = new CsvObjectValueSource(csv, "redshift"),
            [("ztf", "mw-ebv")] = new CsvObjectValueSource(csv, "ebv"),
        });
        var expected = new Dictionary<string, (double Z, double Ebv)>
        {
            [ids[0]] = (0.05, 0.03),
            [ids[1]] = (0.31, double.NaN),
            [ids[2]] = (double.NaN, 0.12),
            [ids[3]] = (double.NaN, 0.02),
            [ids[4]] = (double.NaN, double.NaN),
            [ids[5]] = (double.NaN, double.NaN),
        };
        var store = new InMemoryObjectStateStore();
        var processor = new AlertBatchProcessor(new AlertDecoder(), store, () => ModelSet.Of(model, sources), new ClassificationCodec());

        // Two batches: the second continues each object incrementally from the state the first stored with its metadata.
        var inputs = Inputs(alerts);
        var outputs = new List<Classification>();
        outputs.AddRange((await processor.ProcessAsync(inputs.GetRange(0, 12))).Outputs.Select(o => o.Classification));
        var second = await processor.ProcessAsync(inputs.GetRange(12, 12));
        outputs.AddRange(second.Outputs.Select(o => o.Classification));
        Assert.Contains(second.Outputs, o => o.Classification.Scoring == ScoringPath.Incremental);

        var curves = ExpectedLightCurves(alerts.Select(a => a.Message));
        foreach (var c in outputs)
        {
            var (z, ebv) = expected[c.ObjectId];
            var points = curves[new ObjectKey(c.Survey, c.ObjectId)].Where(p => p.Mjd <= c.Mjd).ToArray();
            var probs = Reference(reference, points, z, ebv, out var steps);
            Assert.Equal(steps, c.StepCount);
            AssertClose(probs.AsSpan((steps - 1) * s_classes.Length, s_classes.Length), c.Probabilities, 1e-4f);
        }

        // Objects with a known value differ from the unknown encoding (the values did reach the network).
        var withZ = outputs.Last(c => c.ObjectId == ids[0]);
        var points0 = curves[new ObjectKey(Survey.Ztf, ids[0])].Where(p => p.Mjd <= withZ.Mjd).ToArray();
        var unknown = Reference(reference, points0, double.NaN, double.NaN, out var n0);
        Assert.True(Math.Abs(unknown[((n0 - 1) * 3) + 0] - withZ.Probabilities[0]) > 1e-4 || Math.Abs(unknown[((n0 - 1) * 3) + 1] - withZ.Probabilities[1]) > 1e-4);
    }

    // A catalogue's "missing" (-99, -1), a negative E(B-V) or a redshift of 1e300 (infinite as a float) reached the network
    // as a value, where the trainer reads such values as unknown. One rule now (MetadataValues): unknown, counted as
    // invalid lookups.
    [OnnxFact]
    public async Task CsvSource_ValuesTheNetworkCannotTake_AreUnknownAsInTraining_AndCountedInvalid()
    {
        var (model, reference) = MetadataModel(seed: 47);
        using var _ = model;
        var alerts = SyntheticZtfAlerts.Generate(objects: 5, alertsPerObject: 3, seed: 13);
        var ids = alerts.Select(a => a.ObjectId).Distinct().ToList();
        var csv = Path.Combine(_root, "sentinels.csv");
        File.WriteAllLines(csv, [
            "object_id,redshift,ebv",
            $"{ids[0]},-99,-99",
            $"{ids[1]},-1,0.02",
            $"{ids[2]},1e300,11",
            $"{ids[3]},99,-0.5",
            $"{ids[4]},0.1,0.05",
        ]);
        var sources = new MetadataSourceSet(new Dictionary<(string, string), IObjectValueSource>
        {
            [("ztf", "host-redshift")] = new CsvObjectValueSource(csv, "redshift"),
            [("ztf", "mw-ebv")] = new CsvObjectValueSource(csv, "ebv"),
        });
        var expected = new Dictionary<string, (double Z, double Ebv)>
        {
            [ids[0]] = (double.NaN, double.NaN),
            [ids[1]] = (double.NaN, 0.02),
            [ids[2]] = (double.NaN, double.NaN),
            [ids[3]] = (double.NaN, double.NaN),
            [ids[4]] = (0.1, 0.05),
        };

        using var metrics = new AlertBroker.Worker.Telemetry.WorkerMetrics();
        var counted = RoutingTests.CountMeasurements("alertbroker.metadata.lookups", out var listener, metrics, tag: "result");
        BatchResult result;
        using (listener)
        {
            result = await new AlertBatchProcessor(new AlertDecoder(), new InMemoryObjectStateStore(), () => ModelSet.Of(model, sources), new ClassificationCodec(), metrics).ProcessAsync(Inputs(alerts));
        }

        var curves = ExpectedLightCurves(alerts.Select(a => a.Message));
        Assert.Equal(alerts.Count, result.Outputs.Count);
        foreach (var c in result.Outputs.Select(o => o.Classification))
        {
            Assert.NotEqual(ScoringPath.None, c.Scoring);
            var (z, ebv) = expected[c.ObjectId];
            var probs = Reference(reference, [.. curves[new ObjectKey(c.Survey, c.ObjectId)].Where(p => p.Mjd <= c.Mjd)], z, ebv, out var steps);
            AssertClose(probs.AsSpan((steps - 1) * s_classes.Length, s_classes.Length), c.Probabilities, 1e-4f);
        }

        // Five objects in each of two sources: seven values not taken, three found.
        Assert.Equal(7, counted.GetValueOrDefault("invalid"));
        Assert.Equal(3, counted.GetValueOrDefault("found"));
        Assert.Equal(0, counted.GetValueOrDefault("missing"));
    }

    [OnnxFact]
    public async Task MetadataArrivingLater_TheStoredStateIsNotContinued_TheLightCurveIsReRunWithIt()
    {
        var (model, reference) = MetadataModel(seed: 42);
        using var _ = model;
        var alerts = SyntheticZtfAlerts.Generate(objects: 3, alertsPerObject: 4, seed: 9);
        var store = new InMemoryObjectStateStore();
        await new AlertBatchProcessor(new AlertDecoder(), store, () => ModelSet.Of(model), new ClassificationCodec()).ProcessAsync(Inputs(alerts.Take(6)));

        var csv = Path.Combine(_root, "later.csv");
        File.WriteAllLines(csv, ["object_id,z", .. alerts.Select(a => a.ObjectId).Distinct().Select(id => id + ",0.2")]);
        var sources = new MetadataSourceSet(new Dictionary<(string, string), IObjectValueSource> { [("ztf", "host-redshift")] = new CsvObjectValueSource(csv, "z") });
        var later = await new AlertBatchProcessor(new AlertDecoder(), store, () => ModelSet.Of(model, sources), new ClassificationCodec()).ProcessAsync(Inputs(alerts.Skip(6)));

        var curves = ExpectedLightCurves(alerts.Select(a => a.Message));
        foreach (var c in later.Outputs.Select(o => o.Classification).Where(c => c.StepCount > 1))
        {
            Assert.Equal(ScoringPath.Full, c.Scoring);
            var probs = Reference(reference, curves[new ObjectKey(c.Survey, c.ObjectId)].Where(p => p.Mjd <= c.Mjd).ToArray(), 0.2, double.NaN, out var steps);
            AssertClose(probs.AsSpan((steps - 1) * 3, 3), c.Probabilities, 1e-4f);
        }
    }

    [OnnxFact]
    public async Task RedisHashSource_InTheStateRedis_ValuesReachTheModel()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var (model, reference) = MetadataModel(seed: 43);
        using var _ = model;
        var alerts = SyntheticZtfAlerts.Generate(objects: 4, alertsPerObject: 2, seed: 10);
        var prefix = "meta" + Guid.NewGuid().ToString("N")[..8];
        using var store = await RedisObjectStateStore.ConnectAsync(new RedisStateOptions { Configuration = _redis.Configuration, Security = _redis.SecurityOptions(), KeyPrefix = prefix });
        var ids = alerts.Select(a => a.ObjectId).Distinct().ToList();
        var db = store.Connection.GetDatabase();
        await db.HashSetAsync(prefix + ":z", ids[0], "0.12");
        await db.HashSetAsync(prefix + ":z", ids[1], "0.4");
        await db.HashSetAsync(prefix + ":ebv", ids[0], "0.05");
        var sources = new MetadataSourceSet(new Dictionary<(string, string), IObjectValueSource>
        {
            [("ztf", "host-redshift")] = new RedisHashObjectValueSource(store.Connection, prefix + ":z"),
            [("ztf", "mw-ebv")] = new RedisHashObjectValueSource(store.Connection, prefix + ":ebv"),
        });

        var result = await new AlertBatchProcessor(new AlertDecoder(), store, () => ModelSet.Of(model, sources), new ClassificationCodec()).ProcessAsync(Inputs(alerts));

        var curves = ExpectedLightCurves(alerts.Select(a => a.Message));
        var values = new Dictionary<string, (double, double)> { [ids[0]] = (0.12, 0.05), [ids[1]] = (0.4, double.NaN), [ids[2]] = (double.NaN, double.NaN), [ids[3]] = (double.NaN, double.NaN) };
        foreach (var c in result.Outputs.Select(o => o.Classification))
        {
            var (z, ebv) = values[c.ObjectId];
            var probs = Reference(reference, curves[new ObjectKey(c.Survey, c.ObjectId)].Where(p => p.Mjd <= c.Mjd).ToArray(), z, ebv, out var steps);
            AssertClose(probs.AsSpan((steps - 1) * 3, 3), c.Probabilities, 1e-4f);
        }
    }

    // Found by the routing bug hunt: the registry's declaration of mw-ebv changed (models metadata set) to a CSV without
    // the column while a model that requires it served. The new set lacked the source, and the model went on scoring with
    // E(B−V) unknown (the log called its metadata "optional"). A required source that no source supplies withholds the
    // model, as one that cannot answer does: stored, scoring NONE, the reason; and once supplied, scored again.
    [OnnxFact]
    public async Task RequiredSourceNotSupplied_ModelWithheldWithTheReason_ScoredOnceSupplied()
    {
        var (model, _) = MetadataModel(seed: 49);
        using var _ = model;
        var alerts = SyntheticZtfAlerts.Generate(objects: 3, alertsPerObject: 4, seed: 17);
        var ids = alerts.Select(a => a.ObjectId).Distinct().ToList();
        var csv = Path.Combine(_root, "z-only.csv");
        File.WriteAllLines(csv, ["object_id,redshift,ebv", .. ids.Select(id => $"{id},0.1,0.05")]);
        var redshiftOnly = new MetadataSourceSet(new Dictionary<(string, string), IObjectValueSource>
        {
            [("ztf", "host-redshift")] = new CsvObjectValueSource(csv, "redshift"),
        });
        var both = new MetadataSourceSet(new Dictionary<(string, string), IObjectValueSource>
        {
            [("ztf", "host-redshift")] = new CsvObjectValueSource(csv, "redshift"),
            [("ztf", "mw-ebv")] = new CsvObjectValueSource(csv, "ebv"),
        });
        var store = new InMemoryObjectStateStore();
        var sources = redshiftOnly;
        var processor = new AlertBatchProcessor(new AlertDecoder(), store, () => ModelSet.Of(model, sources), new ClassificationCodec());
        var inputs = Inputs(alerts);

        var first = await processor.ProcessAsync(inputs.GetRange(0, 6));

        Assert.Equal(6, first.Outputs.Count);
        foreach (var c in first.Outputs.Select(o => o.Classification))
        {
            Assert.Equal(ScoringPath.None, c.Scoring);
            Assert.Empty(c.Probabilities);
            Assert.Equal("z-meta", c.ModelName);
            Assert.Contains("ztf metadata mw-ebv unavailable: no source supplies it here", c.Reason, StringComparison.Ordinal);
        }

        Assert.Contains("mw-ebv", Assert.Single(first.MetadataProblems), StringComparison.Ordinal);
        var states = new ObjectState?[ids.Count];
        await store.ReadAsync([.. ids.Select(id => new ObjectKey(Survey.Ztf, id))], states);
        Assert.All(states, s => Assert.NotEmpty(s!.Observations));

        sources = both;
        var second = await processor.ProcessAsync(inputs.GetRange(6, 6));
        Assert.Empty(second.MetadataProblems);
        Assert.All(second.Outputs, o => Assert.NotEqual(ScoringPath.None, o.Classification.Scoring));
    }

    // A Redis hash source whose key another program holds as another type, or that the worker's ACL user may not read: the
    // HMGET failed with WRONGTYPE / NOPERM, which was taken for an outage (StateStoreUnavailableException), so the batch was
    // retried for ever and its partition stopped. Now the alerts are stored, a model that requires the source is not fed
    // "unknown" (scoring NONE, the model, a reason naming the key), and once the key is a hash the next alerts are scored.
    [OnnxTheory]
    [InlineData("string")]
    [InlineData("list")]
    [InlineData("noperm")]
    public async Task RedisHashSource_KeyOfAnotherTypeOrRefused_AlertsStoredAndWithheldWithTheKeyNamed_ScoredOnceItIsAHash(string kind)
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var (model, reference) = MetadataModel(seed: 45);
        using var _ = model;
        var alerts = SyntheticZtfAlerts.Generate(objects: 3, alertsPerObject: 4, seed: 11);
        var prefix = "foreign" + Guid.NewGuid().ToString("N")[..8];
        var ebvKey = prefix + ":ebv";
        var user = "u" + prefix;
        var security = _redis.SecurityOptions();
        if (kind == "noperm")
        {
            // A user that may use the state's keys and the redshift hash, not the E(B−V) one.
            Assert.StartsWith("+OK", await _redis.ExecuteAsync("ACL", "SETUSER", user, "on", ">pw-" + prefix, $"~{prefix}:ztf:*", $"~{prefix}:z", "+@all"), StringComparison.Ordinal);
            security = new AlertBroker.Redis.RedisOptions { User = user, Password = "pw-" + prefix };
        }

        try
        {
            using var store = await RedisObjectStateStore.ConnectAsync(new RedisStateOptions { Configuration = _redis.Configuration, Security = security, KeyPrefix = prefix });
            using var admin = await _redis.ConnectAsync();
            var db = admin.GetDatabase();
            var ids = alerts.Select(a => a.ObjectId).Distinct().ToList();
            await db.HashSetAsync(prefix + ":z", [.. ids.Select(id => new StackExchange.Redis.HashEntry(id, "0.2"))]);
            switch (kind)
            {
                case "string":
                    await db.StringSetAsync(ebvKey, "another program's value");
                    break;
                case "list":
                    await db.ListRightPushAsync(ebvKey, "x");
                    break;
                default:
                    await db.HashSetAsync(ebvKey, [.. ids.Select(id => new StackExchange.Redis.HashEntry(id, "0.05"))]);
                    break;
            }

            var sources = new MetadataSourceSet(new Dictionary<(string, string), IObjectValueSource>
            {
                [("ztf", "host-redshift")] = new RedisHashObjectValueSource(store.Connection, prefix + ":z"),
                [("ztf", "mw-ebv")] = new RedisHashObjectValueSource(store.Connection, ebvKey),
            });
            var processor = new AlertBatchProcessor(new AlertDecoder(), store, () => ModelSet.Of(model, sources), new ClassificationCodec());
            var inputs = Inputs(alerts);

            var first = await processor.ProcessAsync(inputs.GetRange(0, 6));

            Assert.Equal(6, first.Outputs.Count);
            foreach (var c in first.Outputs.Select(o => o.Classification))
            {
                Assert.Equal(ScoringPath.None, c.Scoring);
                Assert.Empty(c.Probabilities);
                Assert.Equal("z-meta", c.ModelName);
                Assert.Contains("mw-ebv", c.Reason, StringComparison.Ordinal);
                Assert.Contains(ebvKey, c.Reason, StringComparison.Ordinal);
                Assert.Contains(kind == "noperm" ? "NOPERM" : "is a " + kind + ", not a hash", c.Reason, StringComparison.Ordinal);
            }

            var problem = Assert.Single(first.MetadataProblems);
            Assert.Contains(ebvKey, problem, StringComparison.Ordinal);
            var states = new ObjectState?[ids.Count];
            await store.ReadAsync([.. ids.Select(id => new ObjectKey(Survey.Ztf, id))], states);
            Assert.All(states, s => Assert.NotEmpty(s!.Observations));

            // The key made a hash the worker may read: the next alerts are scored with the values, from the whole stored curve.
            await db.KeyDeleteAsync(ebvKey);
            await db.HashSetAsync(ebvKey, [.. ids.Select(id => new StackExchange.Redis.HashEntry(id, "0.05"))]);
            if (kind == "noperm")
            {
                Assert.StartsWith("+OK", await _redis.ExecuteAsync("ACL", "SETUSER", user, $"~{ebvKey}"), StringComparison.Ordinal);
            }

            var second = await processor.ProcessAsync(inputs.GetRange(6, 6));
            Assert.Empty(second.MetadataProblems);
            var curves = ExpectedLightCurves(alerts.Select(a => a.Message));
            foreach (var c in second.Outputs.Select(o => o.Classification))
            {
                var probs = Reference(reference, curves[new ObjectKey(c.Survey, c.ObjectId)].Where(p => p.Mjd <= c.Mjd).ToArray(), 0.2, 0.05, out var steps);
                Assert.Equal(steps, c.StepCount);
                AssertClose(probs.AsSpan((steps - 1) * 3, 3), c.Probabilities, 1e-4f);
            }
        }
        finally
        {
            if (kind == "noperm")
            {
                await _redis.ExecuteAsync("ACL", "DELUSER", user);
            }
        }
    }

    // A model whose metadata is optional ("requiresMetadata": false) beside a source that cannot serve (another program's
    // string at its key): not withheld, but scored with the source's values unknown and the other source's values used.
    [OnnxFact]
    public async Task RedisHashSource_KeyOfAnotherType_AModelWhoseMetadataIsOptionalScoresWithTheValuesUnknown()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var (model, reference) = MetadataModel(seed: 47, optional: true);
        using var _ = model;
        Assert.False(model.MetadataRequired);
        var alerts = SyntheticZtfAlerts.Generate(objects: 3, alertsPerObject: 2, seed: 13);
        var ids = alerts.Select(a => a.ObjectId).Distinct().ToList();
        var prefix = "optional" + Guid.NewGuid().ToString("N")[..8];
        using var connection = await _redis.ConnectAsync();
        var db = connection.GetDatabase();
        await db.HashSetAsync(prefix + ":z", [.. ids.Select(id => new StackExchange.Redis.HashEntry(id, "0.2"))]);
        await db.StringSetAsync(prefix + ":ebv", "another program's value");
        var sources = new MetadataSourceSet(new Dictionary<(string, string), IObjectValueSource>
        {
            [("ztf", "host-redshift")] = new RedisHashObjectValueSource(connection, prefix + ":z"),
            [("ztf", "mw-ebv")] = new RedisHashObjectValueSource(connection, prefix + ":ebv"),
        });

        var result = await new AlertBatchProcessor(new AlertDecoder(), new InMemoryObjectStateStore(), () => ModelSet.Of(model, sources), new ClassificationCodec()).ProcessAsync(Inputs(alerts));

        Assert.Contains(prefix + ":ebv", Assert.Single(result.MetadataProblems), StringComparison.Ordinal);
        var curves = ExpectedLightCurves(alerts.Select(a => a.Message));
        Assert.Equal(alerts.Count, result.Outputs.Count);
        foreach (var c in result.Outputs.Select(o => o.Classification))
        {
            Assert.NotEqual(ScoringPath.None, c.Scoring);
            var probs = Reference(reference, curves[new ObjectKey(c.Survey, c.ObjectId)].Where(p => p.Mjd <= c.Mjd).ToArray(), 0.2, double.NaN, out var steps);
            AssertClose(probs.AsSpan((steps - 1) * 3, 3), c.Probabilities, 1e-4f);
        }
    }

    // A shadow that requires the source beside an active model that needs none: the active model's alerts are scored as
    // ever; the shadow's classifications say why it did not score.
    [OnnxFact]
    public async Task RedisHashSource_KeyOfAnotherType_OnlyTheShadowThatRequiresItIsWithheld()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var (shadow, _) = MetadataModel(seed: 46);
        using var _ = shadow;
        var alerts = SyntheticZtfAlerts.Generate(objects: 2, alertsPerObject: 2, seed: 12);
        var key = "foreign" + Guid.NewGuid().ToString("N")[..8] + ":z";
        using var connection = await _redis.ConnectAsync();
        await connection.GetDatabase().StringSetAsync(key, "another program's value");
        var sources = new MetadataSourceSet(new Dictionary<(string, string), IObjectValueSource>
        {
            [("ztf", "host-redshift")] = new RedisHashObjectValueSource(connection, key),
            [("ztf", "mw-ebv")] = new RedisHashObjectValueSource(connection, key),
        });
        var models = ModelSet.Create(new Dictionary<string, ActiveModel> { ["ztf"] = TestModels.A }, new Dictionary<string, ActiveModel> { ["ztf"] = shadow }, sources);

        using var metrics = new AlertBroker.Worker.Telemetry.WorkerMetrics();
        var counted = RoutingTests.CountMeasurements("alertbroker.metadata.lookups", out var listener, metrics, tag: "result");
        BatchResult result;
        using (listener)
        {
            result = await new AlertBatchProcessor(new AlertDecoder(), new InMemoryObjectStateStore(), () => models, new ClassificationCodec(), metrics).ProcessAsync(Inputs(alerts));
        }

        // Two objects, each looked up in both sources.
        Assert.Equal(4, counted.GetValueOrDefault("unavailable"));

        Assert.All(result.Outputs, o => Assert.NotEmpty(o.Classification.Probabilities));
        Assert.Equal(alerts.Count, result.ShadowOutputs.Count);
        foreach (var c in result.ShadowOutputs.Select(o => o.Classification))
        {
            Assert.Equal(ScoringPath.None, c.Scoring);
            Assert.Equal("z-meta", c.ModelName);
            Assert.Contains(key + ": the key is a string, not a hash", c.Reason, StringComparison.Ordinal);
        }

        Assert.Equal(2, result.MetadataProblems.Count);
    }

    // The same key at start, or when the registry declares it: it opened, so a model requiring it was served and every batch
    // then failed. Now it is a source that cannot be opened, as a CSV without its column: refused, naming the key and type.
    [Fact]
    public async Task Factory_RedisHashSourceWhoseKeyIsAnotherType_CannotBeOpened_AndAModelRequiringItMayNotServe()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var prefix = "typed" + Guid.NewGuid().ToString("N")[..8];
        using var connection = await _redis.ConnectAsync();
        var db = connection.GetDatabase();
        await db.StringSetAsync(prefix + ":ebv", "another program's value");
        await db.HashSetAsync(prefix + ":z", "ZTF1", "0.1");
        var problems = new List<string>();
        var factory = new MetadataSourceFactory([("ztf", "mw-ebv", null, null, prefix + ":ebv"), ("ztf", "host-redshift", null, null, prefix + ":z")], () => connection, (_, _, p) => problems.Add(p));

        var configured = factory.ConfiguredProblem("ztf", "mw-ebv");
        Assert.NotNull(configured);
        Assert.Contains($"redis-hash {prefix}:ebv: the key is a string, not a hash", configured, StringComparison.Ordinal);
        Assert.Contains("AlertBroker:Metadata:Sources:ztf:mw-ebv:RedisHash", configured, StringComparison.Ordinal);
        Assert.Null(factory.ConfiguredProblem("ztf", "host-redshift"));

        var atStart = factory.BuildChecked([]);
        Assert.False(atStart.Supplies("ztf", "mw-ebv"));
        Assert.True(atStart.Supplies("ztf", "host-redshift"));
        Assert.Contains(problems, p => p.Contains(prefix + ":ebv", StringComparison.Ordinal));

        // Declared in the registry (models metadata set … --redis-hash): the watcher's gate refuses the model.
        var declaredOnly = new MetadataSourceFactory([], () => connection);
        var refusal = declaredOnly.CheckSupplied("ztf", ["mw-ebv"], [new MetadataSourceDeclaration { Survey = "ztf", Source = "mw-ebv", RedisHash = prefix + ":ebv" }]);
        Assert.NotNull(refusal);
        Assert.Contains($"mw-ebv: redis-hash {prefix}:ebv: the key is a string, not a hash", refusal, StringComparison.Ordinal);

        // Made a hash (or deleted: a key not written yet is every value unknown), it serves.
        await db.KeyDeleteAsync(prefix + ":ebv");
        Assert.Null(factory.ConfiguredProblem("ztf", "mw-ebv"));
        Assert.Null(declaredOnly.CheckSupplied("ztf", ["mw-ebv"], [new MetadataSourceDeclaration { Survey = "ztf", Source = "mw-ebv", RedisHash = prefix + ":ebv" }]));
    }

    // Read with a plain Split(','): the quoted header had no column "redshift" ("\"redshift\"") and quoted ids matched nothing.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CsvSource_QuotedCellsAndAByteOrderMark_ReadAsAPlainFile(bool byteOrderMark)
    {
        var csv = Path.Combine(_root, "quoted.csv");
        var text = "\"object_id\",\"note\",\"redshift\"\r\n\"ZTF1\",\"host, \"\"bright\"\"\",\"0.1\"\r\n\"ZTF2\",\"\",\"\"\r\nZTF3, plain ,0.3\r\n";
        File.WriteAllText(csv, text, new System.Text.UTF8Encoding(byteOrderMark));

        var redshift = new CsvObjectValueSource(csv, "redshift");
        var note = new CsvObjectValueSource(csv, "note");
        var values = new string?[4];
        await redshift.LookupAsync(["ZTF1", "ZTF2", "ZTF3", "\"ZTF1\""], values);
        var notes = new string?[1];
        await note.LookupAsync(["ZTF1"], notes);

        Assert.Equal(new string?[] { "0.1", null, "0.3", null }, values.AsEnumerable());
        Assert.Equal(2, redshift.Count);
        Assert.Equal("host, \"bright\"", notes[0]);
    }

    // An object id given twice: the last value was used without a word, where the trainer keeps the first of a repeated id.
    // Now the first, and the source's description (logged at start) says how many were left out and where the first was.
    [Fact]
    public async Task CsvSource_RepeatedObjectId_TheFirstValueIsUsed_AndTheDescriptionSaysSo()
    {
        var csv = Path.Combine(_root, "repeated.csv");
        File.WriteAllText(csv, "object_id,z\nZTF1,0.1\nZTF2,0.2\nZTF1,0.9\nZTF2,\nZTF1,0.5\n");

        var source = new CsvObjectValueSource(csv, "z");
        var values = new string?[2];
        await source.LookupAsync(["ZTF1", "ZTF2"], values);

        Assert.Equal(new string?[] { "0.1", "0.2" }, values.AsEnumerable());
        Assert.Equal(2, source.Repeated);
        Assert.Equal($"csv {csv} (column z; 2 value(s) for an object id given before left out, the first value of each used; the first: ZTF1 on line 4)", source.Description);
        File.WriteAllText(csv, "object_id,z\nZTF1,0.1\nZTF2,0.2\n");
        Assert.Equal($"csv {csv} (column z)", new CsvObjectValueSource(csv, "z").Description);
        Assert.Equal(0, new CsvObjectValueSource(csv, "z").Repeated);
    }

    [Fact]
    public async Task CsvSource_ByteOrderMarkBeforeAnUnquotedHeader_TheFirstColumnIsNamed()
    {
        var csv = Path.Combine(_root, "bom.csv");
        File.WriteAllText(csv, "z,oid\n0.2,ZTF9\n", new System.Text.UTF8Encoding(true));

        var source = new CsvObjectValueSource(csv, "z");
        var values = new string?[1];
        await source.LookupAsync(["ZTF9"], values);

        Assert.Equal("0.2", values[0]);
    }

    // A host-galaxy catalogue with a multi-line comment: one record a line split it, and the value column read a comment.
    [Fact]
    public async Task CsvSource_QuotedCellHoldingLineBreaks_IsOneRecord()
    {
        var csv = Path.Combine(_root, "hosts.csv");
        File.WriteAllText(csv, "object_id,comment,redshift\r\nZTF1,\"spiral host,\r\nz from \"\"SDSS\"\"\r\n\",0.1\r\nZTF2,plain,0.2\r\n");

        var redshift = new CsvObjectValueSource(csv, "redshift");
        var comment = new CsvObjectValueSource(csv, "comment");
        var values = new string?[3];
        await redshift.LookupAsync(["ZTF1", "ZTF2", "z from \"SDSS\""], values);
        var comments = new string?[1];
        await comment.LookupAsync(["ZTF1"], comments);

        Assert.Equal(new string?[] { "0.1", "0.2", null }, values.AsEnumerable());
        Assert.Equal(2, redshift.Count);
        Assert.Equal("spiral host,\r\nz from \"SDSS\"\r\n", comments[0]); // inside quotes, as written (RFC 4180)
    }

    [Fact]
    public void CsvSource_QuoteLeftOpenAtTheEnd_IsAMetadataSourceExceptionNamingTheLine()
    {
        var csv = Path.Combine(_root, "open.csv");
        File.WriteAllText(csv, "object_id,comment,redshift\nZTF1,ok,0.1\nZTF2,\"never closed,0.2\nZTF3,x,0.3\n");

        var e = Assert.Throws<MetadataSourceException>(() => new CsvObjectValueSource(csv, "redshift"));

        Assert.Contains("open.csv: line 3: a quoted field that is never closed", e.Message, StringComparison.Ordinal);
        Assert.False(e.ColumnMissing);
    }

    [Fact]
    public void CsvSource_BinaryFileWithoutLineBreaks_IsAMetadataSourceExceptionNamingTheLine()
    {
        // A binary file given as the CSV: 3 MB with no CR or LF after the header, refused at the record limit.
        var csv = Path.Combine(_root, "binary.csv");
        var bytes = new byte[3 << 20];
        new Random(3).NextBytes(bytes);
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = bytes[i] is (byte)'\r' or (byte)'\n' ? (byte)0 : bytes[i];
        }

        File.WriteAllBytes(csv, [.. "object_id,redshift\n"u8, .. bytes]);

        var e = Assert.Throws<MetadataSourceException>(() => new CsvObjectValueSource(csv, "redshift"));

        Assert.Contains("binary.csv: line 2: the record starting there is longer than", e.Message, StringComparison.Ordinal);
        Assert.False(e.ColumnMissing);
    }

    [Fact]
    public void CsvSource_MissingColumn_IsAClearError()
    {
        var csv = Path.Combine(_root, "bad.csv");
        File.WriteAllLines(csv, ["object_id,redshift", "ZTF1,0.1"]);
        var e = Assert.Throws<MetadataSourceException>(() => new CsvObjectValueSource(csv, "ebv"));
        Assert.Contains("no column 'ebv'", e.Message, StringComparison.Ordinal);
        Assert.Throws<MetadataSourceException>(() => new CsvObjectValueSource(Path.Combine(_root, "absent.csv"), "z"));
    }

    [Fact]
    public void Factory_ModelNeedingASourceNeitherConfiguredNorDeclared_MayNotServe()
    {
        var csv = Path.Combine(_root, "z.csv");
        File.WriteAllLines(csv, ["object_id,host-redshift", "ZTF1,0.1"]);
        var factory = new MetadataSourceFactory([("ztf", "host-redshift", csv, null, null)], () => null);
        string[] needed = ["host-redshift", "mw-ebv"];

        var problem = factory.CheckSupplied("ztf", needed, []);
        Assert.Contains("mw-ebv", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("host-redshift:", problem, StringComparison.Ordinal);

        // Declared in the registry as a Redis hash, but this worker has no Redis: still not servable, and it says why.
        var declared = new MetadataSourceDeclaration { Survey = "ztf", Source = "mw-ebv", RedisHash = "ebv" };
        Assert.Contains("no Redis", factory.CheckSupplied("ztf", needed, [declared]), StringComparison.Ordinal);

        var csvDeclared = declared with { RedisHash = null, Csv = csv, Column = "host-redshift" };
        Assert.Null(factory.CheckSupplied("ztf", needed, [csvDeclared]));
        Assert.NotNull(factory.CheckSupplied("lsst", needed, [csvDeclared]));
    }

    // An external model whose metadata feature is Host_Z, without a metadata list: its inferred source was "Host_Z", a name
    // no declaration may have and no configured source has (their names are lower-cased), so it could never serve.
    [Fact]
    public void InferredSourceOfAnUpperCaseFeature_IsRefusedWithoutASource_AndServedByTheConfiguredOrDeclaredOne()
    {
        var manifest = new AlertBroker.Model.Packaging.ModelManifest { Encoding = new() { MetaFeatures = ["Host_Z"] } };
        string[] needed = [.. manifest.EffectiveMetadata.Select(m => m.Source).Distinct(StringComparer.Ordinal)];
        Assert.Equal(["host_z"], needed);
        var csv = Path.Combine(_root, "hostz.csv");
        File.WriteAllLines(csv, ["object_id,Host_Z", "ZTF1,0.1"]);

        // Neither configured nor declared: refused by the worker and by the promotion gate, naming the source to give.
        var none = new MetadataSourceFactory([], () => null);
        Assert.Contains("--source host_z", none.CheckSupplied("ztf", needed, []), StringComparison.Ordinal);
        Assert.Equal(["host_z"], ModelPromoter.MissingMetadataSources(manifest, "ztf", []));

        // Configured under the feature's own spelling (AlertBroker:Metadata:Sources:ztf:Host_Z:Csv): the column defaults to
        // the source name, which the header matches in any case.
        var options = new AlertBroker.Worker.Hosting.MetadataOptions();
        options.Sources["ztf"] = new(StringComparer.OrdinalIgnoreCase) { ["Host_Z"] = new() { Csv = csv } };
        Assert.Null(new MetadataSourceFactory(options.Flatten(), () => null).CheckSupplied("ztf", needed, []));

        // Declared in the registry (models metadata set --survey ztf --source host_z): a valid declaration that serves.
        var declared = new MetadataSourceDeclaration { Survey = "ztf", Source = "host_z", Csv = csv };
        Assert.True(MetadataSourceDeclaration.IsSourceName(declared.Source));
        Assert.Null(none.CheckSupplied("ztf", needed, [declared]));
        Assert.Empty(ModelPromoter.MissingMetadataSources(manifest, "ztf", [declared]));
    }

    [OnnxFact]
    public void Host_FixedModelWhoseMetadataIsOptional_WithoutSources_Serves()
    {
        var dir = TestModelPackages.Export(Path.Combine(_root, "optional-host"), "z-meta", "1", 48, hidden: Hidden, classes: s_classes, metadata: true, metadataOptional: true);
        using var host = WorkerHosts.Build(new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:BootstrapServers"] = "127.0.0.1:9",
            ["AlertBroker:Kafka:Topics:0"] = "in",
            ["AlertBroker:State:Store"] = "InMemory",
            ["AlertBroker:Model:Path"] = dir,
            ["AlertBroker:Telemetry:HttpPort"] = "0",
        });

        var models = host.Services.GetRequiredService<IBatchModelSource>().ForNextBatch();

        Assert.Equal("z-meta", models.For("ztf")!.Name);
        Assert.False(models.Metadata.Supplies("ztf", "host-redshift"));
    }

    [OnnxFact]
    public void Host_FixedModelThatRequiresMetadata_WithoutItsSources_IsRefused_AndWithCsvSourcesServes()
    {
        var dir = TestModelPackages.Export(Path.Combine(_root, "required"), "z-meta", "1", 44, hidden: Hidden, classes: s_classes, metadata: true);
        var settings = new Dictionary<string, string?>
        {
            ["AlertBroker:Kafka:BootstrapServers"] = "127.0.0.1:9",
            ["AlertBroker:Kafka:Topics:0"] = "in",
            ["AlertBroker:State:Store"] = "InMemory",
            ["AlertBroker:Model:Path"] = dir,
            ["AlertBroker:Telemetry:HttpPort"] = "0",
        };
        using (var refused = WorkerHosts.Build(settings))
        {
            var e = Assert.Throws<ModelUnavailableException>(() => refused.Services.GetRequiredService<IBatchModelSource>());
            Assert.Contains("z-meta 1 needs metadata host-redshift, mw-ebv for ztf", e.Message, StringComparison.Ordinal);
            Assert.Contains("AlertBroker:Metadata:Sources:ztf:mw-ebv", e.Message, StringComparison.Ordinal);
        }

        var csv = Path.Combine(_root, "host.csv");
        File.WriteAllLines(csv, ["object_id,host-redshift,mw-ebv", "ZTF1,0.1,0.02"]);
        settings["AlertBroker:Metadata:Sources:ztf:host-redshift:Csv"] = csv;
        settings["AlertBroker:Metadata:Sources:ztf:mw-ebv:Csv"] = csv;
        using var served = WorkerHosts.Build(settings);
        var models = served.Services.GetRequiredService<IBatchModelSource>().ForNextBatch();
        Assert.Equal("z-meta", models.For("ztf")!.Name);
        Assert.True(models.Metadata.Supplies("ztf", "host-redshift"));

        // A Redis hash source whose key is another program's string: a setting to fix (exit 2), naming the key and its type
        // (the fixture's plain server needs no credentials). It was served, and every batch then failed.
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var key = "foreign" + Guid.NewGuid().ToString("N")[..8] + ":ebv";
        Assert.StartsWith("+OK", _redis.ExecuteAsync("SET", key, "x").GetAwaiter().GetResult(), StringComparison.Ordinal);
        settings.Remove("AlertBroker:Metadata:Sources:ztf:mw-ebv:Csv");
        settings["AlertBroker:Metadata:Sources:ztf:mw-ebv:RedisHash"] = key;
        settings["AlertBroker:Metadata:Redis"] = _redis.Configuration;
        using var foreign = WorkerHosts.Build(settings);
        var refused2 = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => foreign.Services.GetRequiredService<IBatchModelSource>());
        Assert.Contains($"redis-hash {key}: the key is a string, not a hash", refused2.Message, StringComparison.Ordinal);
        Assert.Contains("AlertBroker:Metadata:Sources:ztf:mw-ebv:RedisHash", refused2.Message, StringComparison.Ordinal);
    }

    /// <summary>A package with the metadata branch, and the same weights for the reference forward pass.</summary>
    private (ActiveModel Model, GruClassifier Reference) MetadataModel(int seed, bool optional = false)
    {
        var dir = TestModelPackages.Export(Path.Combine(_root, "m" + seed.ToString(CultureInfo.InvariantCulture)), "z-meta", "1", seed, hidden: Hidden, classes: s_classes, metadata: true, metadataOptional: optional);
        var weights = GruClassifierWeights.Random(TestModelPackages.Config(Hidden, s_classes.Length, metadata: true), seed);
        return (ActiveModel.Load(dir), new GruClassifier(weights));
    }

    /// <summary>The reference forward pass over an object's steps with its redshift (time dilation) and E(B−V).</summary>
    private static float[] Reference(GruClassifier reference, Observation[] observations, double z, double ebv, out int steps)
    {
        var points = LightCurveEncoding.SelectSteps(observations);
        steps = points.Length;
        var x = new float[steps * LightCurveEncoding.StepFeatureCount];
        LightCurveEncoding.EncodeSteps(points, 0, LightCurveEncoding.ReferenceTime(points), z, x);
        var meta = new float[LightCurveEncoding.MetaFeatureCount];
        LightCurveEncoding.EncodeMeta(z, ebv, meta);
        var probs = new float[steps * s_classes.Length];
        reference.Run(x, meta, [], probs, new float[2 * Hidden]);
        return probs;
    }
}
