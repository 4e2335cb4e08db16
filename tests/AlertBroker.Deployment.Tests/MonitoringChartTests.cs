using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace AlertBroker.Deployment.Tests;

/// <summary>
/// The chart's PrometheusRule and Grafana dashboard: rendered when asked for, and built only on metrics the worker exports
/// (the Prometheus names of docs/worker.md's telemetry table, which WorkerEndpointsTests checks against a live /metrics).
/// </summary>
public sealed partial class MonitoringChartTests
{
    private const string Selector = "namespace=\"alerts\", service=\"ab-alertbroker-metrics\"";

    [HelmFact]
    public void Template_Defaults_NoRulesNoDashboard()
    {
        var m = Helm.Template(["minimal"]);

        Assert.Empty(m.OfKind("PrometheusRule"));
        Assert.DoesNotContain(m.OfKind("ConfigMap"), c => c.Str("metadata", "name")!.EndsWith("-dashboard", StringComparison.Ordinal));
    }

    [HelmFact]
    public void Template_PrometheusRule_EveryAlertOnDocumentedMetricsOfThisRelease()
    {
        var m = Helm.Template(["monitoring"]);
        var rule = m.Single("PrometheusRule");
        Assert.Equal("kube-prometheus-stack", rule.Str("metadata", "labels", "release"));
        var alerts = Alerts(rule);

        Assert.Equal(
            ["AlertBrokerConsumerLagHigh", "AlertBrokerDeadLettersHigh", "AlertBrokerDependencyDown", "AlertBrokerErrors", "AlertBrokerLatencyHigh",
                "AlertBrokerMetadataMissing", "AlertBrokerNotPublishing", "AlertBrokerOffsetReset", "AlertBrokerPartitionsLost", "AlertBrokerStateUnreadable", "AlertBrokerWorkerDown"],
            alerts.Keys.Order(StringComparer.Ordinal));
        var documented = DocumentedMetricFamilies();
        AssertParses(alerts.Values.Select(a => a.Str("expr")!));
        foreach (var (name, alert) in alerts)
        {
            var expr = alert.Str("expr")!;
            Assert.Contains(alert.Str("labels", "severity"), new[] { "critical", "warning" });
            Assert.False(string.IsNullOrWhiteSpace(alert.Str("annotations", "summary")), name);
            Assert.False(string.IsNullOrWhiteSpace(alert.Str("annotations", "description")), name);
            Assert.Equal("https://runbooks.example.org/alertbroker", alert.Str("annotations", "runbook_url"));
            AssertWellFormed(expr, name);
            var selectors = Selectors().Matches(expr);
            Assert.NotEmpty(selectors);
            foreach (Match s in selectors)
            {
                // Every series is this release's: its namespace and its metrics Service.
                Assert.StartsWith(Selector, s.Groups[2].Value, StringComparison.Ordinal);
                Assert.True(s.Groups[1].Value == "up" || documented.Contains(Family(s.Groups[1].Value)), $"{name}: {s.Groups[1].Value} is not a metric of docs/worker.md");
            }
        }

        Assert.EndsWith("> 250000", alerts["AlertBrokerConsumerLagHigh"].Str("expr")!, StringComparison.Ordinal);
        Assert.EndsWith("> 0.05", alerts["AlertBrokerDeadLettersHigh"].Str("expr")!, StringComparison.Ordinal);
        Assert.EndsWith("> 30", alerts["AlertBrokerLatencyHigh"].Str("expr")!, StringComparison.Ordinal);

        // A threshold of 0 leaves its alert out; without a runbook URL there is no such annotation.
        var fewer = Alerts(Helm.Template(["monitoring"], "metrics.prometheusRule.consumerLagMessages=0", "metrics.prometheusRule.latencyP99Seconds=0", "metrics.prometheusRule.runbookUrl=").Single("PrometheusRule"));
        Assert.Equal(9, fewer.Count);
        Assert.DoesNotContain("AlertBrokerConsumerLagHigh", fewer.Keys);
        Assert.DoesNotContain("AlertBrokerLatencyHigh", fewer.Keys);
        Assert.All(fewer.Values, a => Assert.Null(a.Map("annotations").Get("runbook_url")));
    }

    [HelmFact]
    public void PrometheusRule_PromtoolChecksItAndItsUnitTestsPass_EveryAlertRaisedAndQuietWhenHealthy()
    {
        // The rules as Prometheus loads them from the PrometheusRule (its spec is a rules file), checked and unit-tested by
        // Prometheus's own promtool: synthetic series under the worker's metric names, the alerts each rule must raise
        // with their rendered labels and annotations, and none on a healthy stream (alert-rules.test.yaml).
        var rule = Helm.Template(["monitoring"]).Single("PrometheusRule");
        var dir = Directory.CreateTempSubdirectory("ab-rules-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "rules.yaml"), rule.Map("spec").ToYamlString());

            var tests = Path.Combine(dir, "alert-rules.test.yaml");
            File.Copy(Path.Combine(AppContext.BaseDirectory, "alert-rules.test.yaml"), tests);

            var check = Promtool(dir, "check", "rules", "rules.yaml");
            Assert.True(check.Exit == 0, check.Output);
            Assert.Contains("SUCCESS: 11 rules found", check.Output, StringComparison.Ordinal);
            var run = Promtool(dir, "test", "rules", "alert-rules.test.yaml");
            Assert.True(run.Exit == 0, run.Output);
            Assert.Contains("SUCCESS", run.Output, StringComparison.Ordinal);

            // Every alert of the chart is unit-tested: raised in some test, and checked quiet on the healthy stream.
            var yaml = new YamlStream();
            using (var reader = new StreamReader(tests))
            {
                yaml.Load(reader);
            }

            var groups = ((YamlMappingNode)yaml.Documents[0].RootNode).Seq("tests").Cast<YamlMappingNode>().ToList();
            var cases = groups.SelectMany(g => g.Seq("alert_rule_test").Cast<YamlMappingNode>().Select(c => (Group: g.Str("name")!, Case: c))).ToList();
            var raised = cases.Where(c => c.Case.Get("exp_alerts") is YamlSequenceNode { Children.Count: > 0 }).Select(c => c.Case.Str("alertname")!).ToHashSet(StringComparer.Ordinal);
            var quietWhenHealthy = cases.Where(c => c.Group == "a healthy stream raises nothing" && c.Case.Get("exp_alerts") is null).Select(c => c.Case.Str("alertname")!).ToHashSet(StringComparer.Ordinal);
            foreach (var alert in Alerts(rule).Keys)
            {
                Assert.True(raised.Contains(alert), $"{alert} is raised by no test of alert-rules.test.yaml");
                Assert.True(quietWhenHealthy.Contains(alert), $"{alert} is not checked quiet on the healthy stream of alert-rules.test.yaml");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [HelmTheory]
    [InlineData("metrics.service.enabled=false", "metrics.serviceMonitor.enabled=false")]
    [InlineData("metrics.serviceMonitor.enabled=false", "metrics.service.enabled=true")]
    public void Template_PrometheusRuleWithoutTheScrapeItSelects_FailsSayingWhy(string first, string second)
    {
        var result = Helm.TryTemplate(["monitoring"], first, second);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("metrics.prometheusRule.enabled needs metrics.service.enabled and metrics.serviceMonitor.enabled", result.All, StringComparison.Ordinal);
    }

    [HelmFact]
    public void Template_GrafanaDashboard_EveryPanelOnDocumentedMetricsFilteredByTheVariables()
    {
        var m = Helm.Template(["monitoring"]);
        var map = m.OfKind("ConfigMap").Single(c => c.Str("metadata", "name") == "ab-alertbroker-dashboard");
        Assert.Equal("1", map.Str("metadata", "labels", "grafana_dashboard"));
        var file = Assert.Single(map.Map("data").Children);
        using var json = JsonDocument.Parse(((YamlScalarNode)file.Value).Value!);
        var dashboard = json.RootElement;
        Assert.Equal("ab-alertbroker-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("alerts/ab-alertbroker"u8))[..10], dashboard.GetProperty("uid").GetString());
        Assert.Equal(dashboard.GetProperty("uid").GetString() + ".json", ((YamlScalarNode)file.Key).Value);
        Assert.Equal(["datasource", "namespace", "service"], dashboard.GetProperty("templating").GetProperty("list").EnumerateArray().Select(v => v.GetProperty("name").GetString()));

        var documented = DocumentedMetricFamilies();
        var panels = dashboard.GetProperty("panels").EnumerateArray().ToList();
        Assert.True(panels.Count >= 12, $"{panels.Count} panels");
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        var used = new HashSet<string>(StringComparer.Ordinal);
        AssertParses(panels.SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!));
        foreach (var panel in panels)
        {
            var title = panel.GetProperty("title").GetString()!;
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                var expr = target.GetProperty("expr").GetString()!;
                AssertWellFormed(expr, title);
                foreach (Match s in Selectors().Matches(expr))
                {
                    Assert.StartsWith("namespace=\"$namespace\", service=\"$service\"", s.Groups[2].Value, StringComparison.Ordinal);
                    Assert.True(s.Groups[1].Value == "up" || documented.Contains(Family(s.Groups[1].Value)), $"{title}: {s.Groups[1].Value} is not a metric of docs/worker.md");
                    used.Add(Family(s.Groups[1].Value));
                }
            }
        }

        // The operator's first questions: throughput, latency, lag, dead letters, dependencies, the models serving.
        foreach (var family in new[] { "alertbroker_alerts_received_total", "alertbroker_classifications_published_total", "alertbroker_alert_latency_seconds", "alertbroker_consumer_lag", "alertbroker_dead_letters_total", "alertbroker_dependency_up", "alertbroker_model_serving" })
        {
            Assert.Contains(family, used);
        }
    }

    private static Dictionary<string, YamlMappingNode> Alerts(YamlMappingNode rule) =>
        rule.Map("spec").Seq("groups").Cast<YamlMappingNode>().SelectMany(g => g.Seq("rules").Cast<YamlMappingNode>()).ToDictionary(r => r.Str("alert")!, r => r);

    // A histogram's series are its family plus _bucket, _sum or _count.
    private static string Family(string series) => Regex.Replace(series, "_(bucket|sum|count)$", string.Empty);

    // Every expression parses with Prometheus's own PromQL grammar (its web UI's lezer parser, run by node).
    private static void AssertParses(IEnumerable<string> expressions)
    {
        var list = expressions.ToList();
        var modules = Path.Combine(Helm.RepositoryRoot, ".tools", "promql", "node_modules");
        Assert.True(Directory.Exists(Path.Combine(modules, "@prometheus-io", "lezer-promql")), $"the PromQL grammar is not in {modules}: run eng/setup.sh");
        var info = new System.Diagnostics.ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "promql-check.cjs"));
        info.Environment["NODE_PATH"] = modules;
        using var node = System.Diagnostics.Process.Start(info)!;
        foreach (var e in list)
        {
            node.StandardInput.WriteLine(JsonSerializer.Serialize(e));
        }

        node.StandardInput.Close();
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        Assert.True(node.WaitForExit(TimeSpan.FromSeconds(60)), "node did not finish");
        Assert.True(node.ExitCode == 0, "node: " + errors.Result);
        var verdicts = output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(list.Count, verdicts.Length);
        for (var i = 0; i < list.Count; i++)
        {
            Assert.True(verdicts[i] == "ok", $"{verdicts[i]}\n  in: {list[i]}");
        }
    }

    // Prometheus's promtool (eng/setup.sh unpacks Debian's prometheus 2.42 into .tools/prometheus) in a directory.
    private static (int Exit, string Output) Promtool(string directory, params string[] arguments)
    {
        var path = Path.Combine(Helm.RepositoryRoot, ".tools", "prometheus", "promtool");
        Assert.True(File.Exists(path), $"promtool is not at {path}: run eng/setup.sh");
        var (exit, stdout, stderr) = Tool.Run(path, directory, arguments, null, TimeSpan.FromSeconds(120));
        return (exit, stdout + stderr);
    }

    // Brackets and quotes balance: a template slip (a lost brace, a stray quote) shows here rather than in Prometheus.
    private static void AssertWellFormed(string expr, string where)
    {
        var stack = new Stack<char>();
        var quoted = false;
        foreach (var c in expr)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && c is '(' or '{' or '[')
            {
                stack.Push(c);
            }
            else if (!quoted && c is ')' or '}' or ']')
            {
                Assert.True(stack.Count > 0 && stack.Pop() == c switch { ')' => '(', '}' => '{', _ => '[' }, $"{where}: unbalanced '{c}' in {expr}");
            }
        }

        Assert.False(quoted, $"{where}: unterminated string in {expr}");
        Assert.True(stack.Count == 0, $"{where}: unclosed brackets in {expr}");
    }

    /// <summary>The Prometheus family names of docs/worker.md's "Telemetry" table.</summary>
    private static HashSet<string> DocumentedMetricFamilies()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var inTelemetry = false;
        foreach (var line in File.ReadLines(Path.Combine(Helm.RepositoryRoot, "docs", "worker.md")))
        {
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                inTelemetry = line.StartsWith("## Telemetry", StringComparison.Ordinal);
            }
            else if (inTelemetry && (line.StartsWith("| `alertbroker.", StringComparison.Ordinal) || line.StartsWith("| `dotnet.", StringComparison.Ordinal)))
            {
                names.Add(line.Split('|', StringSplitOptions.TrimEntries)[2].Trim('`'));
            }
        }

        Assert.True(names.Count >= 30, $"docs/worker.md's telemetry table has {names.Count} rows; was it moved?");
        return names;
    }

    [GeneratedRegex(@"\b(alertbroker_[a-z_]+|dotnet_[a-z_]+|up)\{([^}]*)\}")]
    private static partial Regex Selectors();
}
