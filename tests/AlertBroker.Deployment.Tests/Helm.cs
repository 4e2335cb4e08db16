using System.Diagnostics;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace AlertBroker.Deployment.Tests;

/// <summary>
/// The <c>helm</c> binary (eng/setup.sh puts 3.17.1 in <c>.tools/helm/</c>; <c>ALERTBROKER_HELM</c> or the PATH also
/// work) run against <c>helm/alertbroker</c>, and the rendered manifests parsed with YamlDotNet.
/// </summary>
internal static class Helm
{
    private static readonly Lazy<string?> s_path = new(Locate);

    public static string? Path => s_path.Value;

    public static string RepositoryRoot => SharedData.RepositoryRoot() ?? throw new InvalidOperationException("repository root not found");

    public static string Chart => System.IO.Path.Combine(RepositoryRoot, "helm", "alertbroker");

    /// <summary>A values file of this project (<c>values/NAME.yaml</c>).</summary>
    public static string Values(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "values", name + ".yaml");

    public static HelmResult Run(params string[] args)
    {
        // Helm must not read or write the user's configuration, caches or a cluster's kubeconfig.
        var home = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ab-helm-home");
        var (exit, stdout, stderr) = Tool.Run(
            Path ?? throw new InvalidOperationException("helm not found"),
            RepositoryRoot,
            args,
            new Dictionary<string, string>
            {
                ["HELM_CONFIG_HOME"] = System.IO.Path.Combine(home, "config"),
                ["HELM_CACHE_HOME"] = System.IO.Path.Combine(home, "cache"),
                ["HELM_DATA_HOME"] = System.IO.Path.Combine(home, "data"),
                ["KUBECONFIG"] = System.IO.Path.Combine(home, "no-kubeconfig"),
            },
            TimeSpan.FromSeconds(60));
        return new HelmResult(exit, stdout, stderr);
    }

    /// <summary><c>helm template</c> with values files (from values/) and <c>--set</c> pairs; fails the test if helm fails.</summary>
    public static Manifests Template(string[] valueFiles, params string[] sets)
    {
        var result = TryTemplate(valueFiles, sets);
        Assert.True(result.ExitCode == 0, "helm template failed:\n" + result.StandardError);
        return Manifests.Parse(result.StandardOutput);
    }

    public static HelmResult TryTemplate(string[] valueFiles, params string[] sets)
    {
        var args = new List<string> { "template", "ab", Chart, "--namespace", "alerts" };
        foreach (var f in valueFiles)
        {
            args.Add("-f");
            args.Add(Values(f));
        }

        foreach (var s in sets)
        {
            args.Add("--set");
            args.Add(s);
        }

        return Run([.. args]);
    }

    /// <summary>
    /// The chart's NOTES.txt as <c>helm install</c> would print it, which <c>helm template</c> leaves out and
    /// <c>install --dry-run</c> renders only with a cluster: a copy of the chart gets a template that renders the notes
    /// (tpl, so the chart's named templates apply) into a YAML string; fails the test if helm fails.
    /// </summary>
    public static string Notes(string[] valueFiles, params string[] sets)
    {
        var copy = Directory.CreateTempSubdirectory("ab-chart-notes-");
        try
        {
            CopyDirectory(Chart, copy.FullName);
            File.Copy(System.IO.Path.Combine(copy.FullName, "templates", "NOTES.txt"), System.IO.Path.Combine(copy.FullName, "notes-under-test.txt"));
            File.WriteAllText(System.IO.Path.Combine(copy.FullName, "templates", "notes-under-test.yaml"), "notes: {{ tpl (.Files.Get \"notes-under-test.txt\") . | toJson }}\n");
            var args = new List<string> { "template", "ab", copy.FullName, "--namespace", "alerts", "--show-only", "templates/notes-under-test.yaml" };
            foreach (var f in valueFiles)
            {
                args.Add("-f");
                args.Add(Values(f));
            }

            foreach (var s in sets)
            {
                args.Add("--set");
                args.Add(s);
            }

            var result = Run([.. args]);
            Assert.True(result.ExitCode == 0, "helm template failed:\n" + result.StandardError);
            return Manifests.Parse(result.StandardOutput).Documents.Single().Str("notes")!;
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(System.IO.Path.Combine(to, System.IO.Path.GetRelativePath(from, dir)));
        }

        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, System.IO.Path.Combine(to, System.IO.Path.GetRelativePath(from, file)));
        }
    }

    private static string? Locate()
    {
        var configured = Environment.GetEnvironmentVariable("ALERTBROKER_HELM");
        if (!string.IsNullOrEmpty(configured) && File.Exists(configured))
        {
            return configured;
        }

        if (SharedData.RepositoryRoot() is { } root)
        {
            var tool = System.IO.Path.Combine(root, ".tools", "helm", "helm");
            if (File.Exists(tool))
            {
                return tool;
            }
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(dir, "helm");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

internal sealed record HelmResult(int ExitCode, string StandardOutput, string StandardError)
{
    public string All => StandardOutput + StandardError;
}

/// <summary>A fact that needs helm; skipped with a clear message when it is not installed.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class HelmFactAttribute : FactAttribute
{
    public HelmFactAttribute()
    {
        if (Helm.Path is null)
        {
            Skip = "helm not found: run eng/setup.sh (installs helm 3.17.1 into .tools/helm), or set ALERTBROKER_HELM";
        }
    }
}

[AttributeUsage(AttributeTargets.Method)]
internal sealed class HelmTheoryAttribute : TheoryAttribute
{
    public HelmTheoryAttribute()
    {
        if (Helm.Path is null)
        {
            Skip = "helm not found: run eng/setup.sh (installs helm 3.17.1 into .tools/helm), or set ALERTBROKER_HELM";
        }
    }
}

/// <summary>The documents of a rendered chart.</summary>
internal sealed class Manifests
{
    private Manifests(string text, List<YamlMappingNode> documents)
    {
        Text = text;
        Documents = documents;
    }

    public string Text { get; }

    public IReadOnlyList<YamlMappingNode> Documents { get; }

    public static Manifests Parse(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        var docs = new List<YamlMappingNode>();
        foreach (var d in stream.Documents)
        {
            if (d.RootNode is YamlMappingNode m)
            {
                docs.Add(m);
            }
        }

        return new Manifests(text, docs);
    }

    public IEnumerable<YamlMappingNode> OfKind(string kind) => Documents.Where(d => d.Str("kind") == kind);

    public YamlMappingNode Single(string kind)
    {
        var found = OfKind(kind).ToList();
        Assert.True(found.Count == 1, $"expected one {kind}, found {found.Count}");
        return found[0];
    }

    public YamlMappingNode WorkerContainer() => Containers(Single("Deployment"), "worker");

    public static YamlMappingNode Containers(YamlMappingNode workload, string name) =>
        workload.Map("spec", "template", "spec").Seq("containers").Cast<YamlMappingNode>().Single(c => c.Str("name") == name);

    public static IEnumerable<string> Kinds(Manifests m) => m.Documents.Select(d => d.Str("kind")!);
}

internal static class YamlExtensions
{
    public static YamlNode? Get(this YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    public static YamlMappingNode Map(this YamlMappingNode node, params string[] path)
    {
        var current = node;
        foreach (var p in path)
        {
            current = current.Get(p) as YamlMappingNode ?? throw new KeyNotFoundException($"no mapping at '{p}' in {string.Join('.', path)}");
        }

        return current;
    }

    public static YamlSequenceNode Seq(this YamlMappingNode node, string key) =>
        node.Get(key) as YamlSequenceNode ?? throw new KeyNotFoundException($"no sequence at '{key}'");

    public static string? Str(this YamlMappingNode node, params string[] path)
    {
        var parent = path.Length == 1 ? node : node.Map(path[..^1]);
        return (parent.Get(path[^1]) as YamlScalarNode)?.Value;
    }

    /// <summary>The container's environment as name → entry.</summary>
    public static Dictionary<string, YamlMappingNode> Env(this YamlMappingNode container) =>
        container.Get("env") is YamlSequenceNode env
            ? env.Cast<YamlMappingNode>().ToDictionary(e => e.Str("name")!, StringComparer.Ordinal)
            : new Dictionary<string, YamlMappingNode>(StringComparer.Ordinal);

    public static IEnumerable<string> Strings(this YamlSequenceNode node) => node.Cast<YamlScalarNode>().Select(s => s.Value!);

    public static string ToYamlString(this YamlNode node)
    {
        var builder = new StringBuilder();
        new YamlStream(new YamlDocument(node)).Save(new StringWriter(builder), assignAnchors: false);
        return builder.ToString();
    }
}

/// <summary>A command-line tool (helm, promtool) run to its end.</summary>
internal static class Tool
{
    /// <summary>Runs <paramref name="program"/> in <paramref name="workingDirectory"/>; its exit code, stdout and stderr.</summary>
    /// <exception cref="TimeoutException">it did not finish within <paramref name="timeout"/> (it is then killed).</exception>
    public static (int Exit, string Stdout, string Stderr) Run(string program, string workingDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout)
    {
        using var process = Process.Start(StartInfo(program, workingDirectory, args, environment))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{System.IO.Path.GetFileName(program)} {string.Join(' ', args)} did not finish in {timeout.TotalSeconds:F0} s");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>How to start <paramref name="program"/>: arguments as given, stdout and stderr redirected, extra environment.</summary>
    public static ProcessStartInfo StartInfo(string program, string workingDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return info;
    }
}
