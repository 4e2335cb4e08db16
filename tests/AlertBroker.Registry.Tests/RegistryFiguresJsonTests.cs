using System.Text.Json;

namespace AlertBroker.Registry.Tests;

/// <summary>
/// Undefined figures (a NaN metric: an AUROC on a holdout of one class) in registry records and in <c>models status --json</c>:
/// JSON null, which strict readers accept; records written until 2026-12-07 with "NaN" are still read.
/// </summary>
public sealed class RegistryFiguresJsonTests
{
    private static PromotionRecord Audit(double auroc) => new()
    {
        Action = "promote",
        Utc = DateTimeOffset.UnixEpoch,
        To = "m@2",
        By = "test",
        Metrics = new Dictionary<string, double> { ["shadowCandidateMacroAuroc"] = auroc, ["shadowAlerts"] = 10 },
    };

    [Fact]
    public void Serialize_NaNMetric_IsNull_AndReadBackAsNaN()
    {
        var json = RegistryJson.Serialize(Audit(double.NaN));

        using (var strict = JsonDocument.Parse(json))
        {
            Assert.Equal(JsonValueKind.Null, strict.RootElement.GetProperty("metrics").GetProperty("shadowCandidateMacroAuroc").ValueKind);
        }

        // A reader with the default options (no named literals) reads every metric as a number or null.
        var plain = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;
        Assert.Null(JsonSerializer.Deserialize<Dictionary<string, double?>>(plain["metrics"].GetRawText())!["shadowCandidateMacroAuroc"]);

        var back = RegistryJson.Deserialize<PromotionRecord>(json, "test");
        Assert.True(double.IsNaN(back.Metrics["shadowCandidateMacroAuroc"]));
        Assert.Equal(10, back.Metrics["shadowAlerts"]);
    }

    [Theory]
    [InlineData("\"NaN\"", double.NaN)]
    [InlineData("\"Infinity\"", double.PositiveInfinity)]
    [InlineData("\"-Infinity\"", double.NegativeInfinity)]
    [InlineData("\"0.5\"", 0.5)]
    [InlineData("null", double.NaN)]
    [InlineData("0.25", 0.25)]
    public void Deserialize_RecordOfAnEarlierRelease_IsRead(string written, double expected)
    {
        var json = """{"action":"promote","utc":"2026-01-01T00:00:00+00:00","to":"m@2","by":"a","metrics":{"testMacroAuroc":""" + written + "}}";

        var record = RegistryJson.Deserialize<PromotionRecord>(json, "Redis list x (record 1)");

        Assert.Equal(expected, record.Metrics["testMacroAuroc"]);
    }

    [Fact]
    public void Deserialize_MetricThatIsNotANumber_IsADamagedRecord()
    {
        var json = """{"action":"promote","utc":"2026-01-01T00:00:00+00:00","to":"m@2","by":"a","metrics":{"testMacroAuroc":"high"}}""";

        var e = Assert.Throws<RegistryException>(() => RegistryJson.Deserialize<PromotionRecord>(json, "Redis list x (record 1)"));

        Assert.True(e.DamagedRecord);
        Assert.Contains("Redis list x (record 1) is not valid JSON", e.Message, StringComparison.Ordinal);
    }

    // models status --json threw (ArgumentException: .NET writes no NaN without named literals) on an audit record whose
    // shadow AUROC was undefined; it is null now.
    [Fact]
    public void StatusToJson_AuditRecordWithANaNMetric_WritesNull()
    {
        var status = new RegistryStatus { Surveys = [], Workers = [], Audit = [Audit(double.NaN)] };

        using var strict = JsonDocument.Parse(status.ToJson());

        var metrics = strict.RootElement.GetProperty("audit")[0].GetProperty("metrics");
        Assert.Equal(JsonValueKind.Null, metrics.GetProperty("shadowCandidateMacroAuroc").ValueKind);
        Assert.Equal(10, metrics.GetProperty("shadowAlerts").GetDouble());
    }
}
