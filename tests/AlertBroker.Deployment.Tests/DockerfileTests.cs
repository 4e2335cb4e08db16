using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace AlertBroker.Deployment.Tests;

/// <summary>
/// The container recipe, parsed (no Docker engine here): stages, base images, the user, the publish command, the entry
/// point, and a build context that holds everything the publish needs.
/// </summary>
public sealed partial class DockerfileTests
{
    private static readonly string s_root = SharedData.RepositoryRoot() ?? throw new InvalidOperationException("repository root not found");
    private static readonly string[] s_lines = Instructions(File.ReadAllText(Path.Combine(s_root, "Dockerfile")));

    [Fact]
    public void Dockerfile_BuildsWithTheSdkAndRunsOnAGlibcDebianImage()
    {
        var args = s_lines.Where(l => l.StartsWith("ARG ", StringComparison.Ordinal))
            .Select(l => l[4..].Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        var stages = s_lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).Select(l => FromLine().Match(l)).ToList();

        Assert.Equal(2, stages.Count);
        Assert.All(stages, s => Assert.True(s.Success));
        Assert.Equal("build", stages[0].Groups["name"].Value);
        Assert.Equal("runtime", stages[1].Groups["name"].Value);
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", Resolve(stages[0].Groups["image"].Value, args), StringComparison.Ordinal);
        var runtime = Resolve(stages[1].Groups["image"].Value, args);
        Assert.StartsWith("debian:12", runtime, StringComparison.Ordinal);
        Assert.DoesNotContain("alpine", runtime, StringComparison.OrdinalIgnoreCase);

        // Only the publish output crosses over from the SDK stage.
        var copies = s_lines.Where(l => l.StartsWith("COPY --from=", StringComparison.Ordinal)).ToList();
        Assert.Equal(["COPY --from=build /app /app"], copies);
    }

    [Fact]
    public void Dockerfile_RunsAsTheNonRootUserTheChartExpects()
    {
        var user = Assert.Single(s_lines, l => l.StartsWith("USER ", StringComparison.Ordinal))[5..].Trim();
        var values = new YamlStream();
        values.Load(new StringReader(File.ReadAllText(Path.Combine(s_root, "helm", "alertbroker", "values.yaml"))));
        var pod = ((YamlMappingNode)values.Documents[0].RootNode).Map("podSecurityContext");

        // Numeric, so that Kubernetes can check runAsNonRoot against the image; the same uid:gid as the chart.
        Assert.Matches(@"^[0-9]+:[0-9]+$", user);
        var uid = user.Split(':')[0];
        Assert.NotEqual("0", uid);
        Assert.Equal(pod.Str("runAsUser") + ":" + pod.Str("runAsGroup"), user);
        Assert.Contains(s_lines, l => l.Contains("useradd", StringComparison.Ordinal) && l.Contains("--uid " + uid, StringComparison.Ordinal));

        // USER comes after everything that needs root (apt-get, useradd) and before the entry point.
        var userIndex = Array.FindIndex(s_lines, l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.True(Array.FindLastIndex(s_lines, l => l.StartsWith("RUN ", StringComparison.Ordinal)) < userIndex);
        Assert.True(userIndex < Array.FindIndex(s_lines, l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal)));
    }

    [Fact]
    public void Dockerfile_PublishesSelfContainedLinuxX64WithTheDocumentedCommand()
    {
        var publish = PublishCommand().Match(string.Join('\n', s_lines));
        Assert.True(publish.Success, "no dotnet publish in the Dockerfile");
        var command = publish.Value;

        Assert.Contains("src/AlertBroker.Cli/AlertBroker.Cli.csproj", command, StringComparison.Ordinal);
        Assert.Contains("-r linux-x64", command, StringComparison.Ordinal);
        Assert.Contains("--self-contained true", command, StringComparison.Ordinal);
        Assert.Contains("-c Release", command, StringComparison.Ordinal);
        Assert.Contains(command, File.ReadAllText(Path.Combine(s_root, "docs", "deployment.md")), StringComparison.Ordinal);

        // The native libraries are checked in the build stage, not discovered missing by the first alert.
        Assert.Contains(s_lines, l => l.Contains("libonnxruntime.so", StringComparison.Ordinal) && l.Contains("librdkafka", StringComparison.Ordinal));
    }

    [Fact]
    public void Dockerfile_EntryPointIsTheAlertbrokerProgramRunningTheWorker()
    {
        Assert.Equal("ENTRYPOINT [\"/app/alertbroker\"]", Assert.Single(s_lines, l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal)));
        Assert.Equal("CMD [\"run\"]", Assert.Single(s_lines, l => l.StartsWith("CMD ", StringComparison.Ordinal)));
        Assert.Contains("COPY models/ /app/models/", s_lines);
        Assert.Contains(s_lines, l => l.StartsWith("EXPOSE 9464", StringComparison.Ordinal));
    }

    /// <summary>Every file outside a project folder that a project pulls in (schemas) is in the build context and copied.</summary>
    [Fact]
    public void Dockerignore_LetsThroughEverythingThePublishReadsAndNoBuildOutput()
    {
        var ignore = File.ReadAllLines(Path.Combine(s_root, ".dockerignore")).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Equal("**", ignore[0]);
        var allowed = ignore.Where(l => l.StartsWith('!')).Select(l => l[1..].TrimEnd('/')).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("**/bin/", ignore);
        Assert.Contains("**/obj/", ignore);

        var copied = s_lines.Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) && !l.StartsWith("COPY --from", StringComparison.Ordinal))
            .SelectMany(l => l[5..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1]).Select(p => p.TrimEnd('/')).ToList();
        foreach (var path in copied)
        {
            Assert.True(allowed.Contains(path), path + " is copied but excluded by .dockerignore");
            Assert.True(File.Exists(Path.Combine(s_root, path)) || Directory.Exists(Path.Combine(s_root, path)), path);
        }

        foreach (var project in Directory.GetFiles(Path.Combine(s_root, "src"), "*.csproj", SearchOption.AllDirectories))
        {
            foreach (Match outside in OutsideSrc().Matches(File.ReadAllText(project)))
            {
                Assert.True(copied.Contains(outside.Groups[1].Value), $"{Path.GetFileName(project)} reads {outside.Groups[1].Value}/, which the Dockerfile does not copy");
            }
        }

        foreach (var build in new[] { "global.json", "Directory.Build.props", "Directory.Packages.props" })
        {
            Assert.Contains(build, copied);
        }
    }

    /// <summary>The Dockerfile's instructions, one per entry, with line continuations joined and comments dropped.</summary>
    private static string[] Instructions(string text)
    {
        var result = new List<string>();
        var current = new System.Text.StringBuilder();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current.Append(line[..^1].Trim()).Append(' ');
                continue;
            }

            current.Append(line.Trim());
            if (current.Length > 0)
            {
                result.Add(current.ToString());
            }

            current.Clear();
        }

        return [.. result];
    }

    private static string Resolve(string image, Dictionary<string, string> args) =>
        ArgReference().Replace(image, m => args.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value);

    [GeneratedRegex(@"^FROM (?<image>\S+) AS (?<name>\S+)$")]
    private static partial Regex FromLine();

    [GeneratedRegex(@"\$\{(\w+)\}")]
    private static partial Regex ArgReference();

    [GeneratedRegex(@"dotnet publish [^&;\n]*?-o /app")]
    private static partial Regex PublishCommand();

    [GeneratedRegex(@"\.\.[\\/]\.\.[\\/]([A-Za-z0-9_.-]+)[\\/]")]
    private static partial Regex OutsideSrc();
}
