using AlertBroker.Model.Packaging;

namespace AlertBroker.Registry;

/// <summary>
/// The registry in a local directory, for the embedded mode and single-machine use: packages in the usual
/// <c>ROOT/&lt;name&gt;/&lt;version&gt;/</c> layout, registry records under <c>ROOT/.registry/</c>. Every change holds an
/// exclusive lock file, so processes on one machine see each change whole. Workers poll (there is no pub/sub).
/// </summary>
public sealed class DirectoryModelRegistry : IModelRegistry
{
    private static readonly TimeSpan s_lockTimeout = TimeSpan.FromSeconds(30);

    private readonly string _root;
    private readonly string _meta;

    public DirectoryModelRegistry(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = Path.GetFullPath(root);
        _meta = Path.Combine(_root, ".registry");
        Directory.CreateDirectory(Path.Combine(_meta, "models"));
    }

    public string Root => _root;

    private string ActivePath => Path.Combine(_meta, "active.json");

    private string HistoryPath => Path.Combine(_meta, "history.jsonl");

    private string AuditPath => Path.Combine(_meta, "audit.jsonl");

    private string WorkersPath => Path.Combine(_meta, "workers");

    public async Task<RegisteredModel> PushAsync(ModelPackageBytes package, string pushedBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(package);
        var model = PackageDescriptions.Describe(package, pushedBy, DateTimeOffset.UtcNow);
        using var _ = await LockAsync(cancellationToken).ConfigureAwait(false);
        var existing = ReadInfo(model.Ref);
        if (existing is not null)
        {
            return string.Equals(existing.Sha256, model.Sha256, StringComparison.OrdinalIgnoreCase)
                ? existing
                : throw new RegistryException($"{model.Ref} is already registered with other bytes; push a new version instead");
        }

        var dir = PackageDirectory(model.Ref);
        Directory.CreateDirectory(dir);
        await File.WriteAllBytesAsync(Path.Combine(dir, ModelPackage.OnnxFileName), package.Onnx, cancellationToken).ConfigureAwait(false);
        await File.WriteAllBytesAsync(Path.Combine(dir, ModelPackage.ManifestFileName), package.Manifest, cancellationToken).ConfigureAwait(false);
        WriteAtomically(InfoPath(model.Ref), RegistryJson.Serialize(model));
        return model;
    }

    public Task<IReadOnlyList<RegisteredModel>> ListAsync(CancellationToken cancellationToken = default)
    {
        var models = new List<RegisteredModel>();
        foreach (var file in Directory.GetFiles(Path.Combine(_meta, "models"), "*.json"))
        {
            models.Add(RegistryJson.Deserialize<RegisteredModel>(File.ReadAllText(file)));
        }

        models.Sort(static (a, b) => a.PushedUtc.CompareTo(b.PushedUtc));
        return Task.FromResult<IReadOnlyList<RegisteredModel>>(models);
    }

    public Task<RegisteredModel?> GetAsync(ModelRef model, CancellationToken cancellationToken = default) => Task.FromResult(ReadInfo(model));

    public async Task<ModelPackageBytes> GetPackageAsync(ModelRef model, CancellationToken cancellationToken = default)
    {
        var info = ReadInfo(model) ?? throw new RegistryException($"{model} is not registered");
        var dir = PackageDirectory(model);
        try
        {
            var manifest = await File.ReadAllBytesAsync(Path.Combine(dir, ModelPackage.ManifestFileName), cancellationToken).ConfigureAwait(false);
            var onnx = await File.ReadAllBytesAsync(Path.Combine(dir, ModelPackage.OnnxFileName), cancellationToken).ConfigureAwait(false);
            return PackageDescriptions.Verify(info, new ModelPackageBytes(manifest, onnx));
        }
        catch (IOException e)
        {
            throw new RegistryException($"{model}: package files cannot be read from {dir}: {e.Message}", e);
        }
    }

    public Task<ActivePointer?> GetActiveAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(File.Exists(ActivePath) ? RegistryJson.Deserialize<ActivePointer>(File.ReadAllText(ActivePath)) : null);

    public Task<ActivePointer?> GetPreviousAsync(CancellationToken cancellationToken = default)
    {
        var history = ReadLines(HistoryPath);
        return Task.FromResult(history.Count == 0 ? null : RegistryJson.Deserialize<ActivePointer>(history[^1]));
    }

    public async Task SetActiveAsync(ActivePointer? expectedCurrent, ActivePointer next, PromotionRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(record);
        using var _ = await LockAsync(cancellationToken).ConfigureAwait(false);
        var current = await GetActiveAsync(cancellationToken).ConfigureAwait(false);
        if (PackageDescriptions.Identity(current) != PackageDescriptions.Identity(expectedCurrent))
        {
            throw new RegistryException("the active model changed while this promotion was being checked; check again");
        }

        if (current is not null)
        {
            File.AppendAllText(HistoryPath, RegistryJson.Serialize(current) + "\n");
        }

        WriteAtomically(ActivePath, RegistryJson.Serialize(next));
        File.AppendAllText(AuditPath, RegistryJson.Serialize(record) + "\n");
    }

    public async Task<ActivePointer> RollbackAsync(ActivePointer expectedCurrent, PromotionRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(expectedCurrent);
        ArgumentNullException.ThrowIfNull(record);
        using var _ = await LockAsync(cancellationToken).ConfigureAwait(false);
        var current = await GetActiveAsync(cancellationToken).ConfigureAwait(false);
        if (PackageDescriptions.Identity(current) != PackageDescriptions.Identity(expectedCurrent))
        {
            throw new RegistryException("the active model changed while rolling back; check again");
        }

        var history = ReadLines(HistoryPath);
        if (history.Count == 0)
        {
            throw new RegistryException("there is no earlier model to roll back to");
        }

        var previous = RegistryJson.Deserialize<ActivePointer>(history[^1]);
        history.RemoveAt(history.Count - 1);
        WriteAtomically(HistoryPath, history.Count == 0 ? string.Empty : string.Join('\n', history) + "\n");
        WriteAtomically(ActivePath, RegistryJson.Serialize(previous));
        File.AppendAllText(AuditPath, RegistryJson.Serialize(record) + "\n");
        return previous;
    }

    public Task<IReadOnlyList<PromotionRecord>> GetAuditAsync(CancellationToken cancellationToken = default)
    {
        var records = new List<PromotionRecord>();
        foreach (var line in ReadLines(AuditPath))
        {
            records.Add(RegistryJson.Deserialize<PromotionRecord>(line));
        }

        return Task.FromResult<IReadOnlyList<PromotionRecord>>(records);
    }

    public Task ReportHeartbeatAsync(WorkerHeartbeat heartbeat, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        Directory.CreateDirectory(WorkersPath);
        WriteAtomically(Path.Combine(WorkersPath, SafeName(heartbeat.WorkerId) + ".json"), RegistryJson.Serialize(heartbeat));
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<WorkerHeartbeat>> GetWorkersAsync(TimeSpan maxAge, CancellationToken cancellationToken = default)
    {
        var workers = new List<WorkerHeartbeat>();
        if (Directory.Exists(WorkersPath))
        {
            var cutoff = DateTimeOffset.UtcNow - maxAge;
            foreach (var file in Directory.GetFiles(WorkersPath, "*.json"))
            {
                var heartbeat = RegistryJson.Deserialize<WorkerHeartbeat>(File.ReadAllText(file));
                if (heartbeat.Utc >= cutoff)
                {
                    workers.Add(heartbeat);
                }
            }
        }

        workers.Sort(static (a, b) => string.CompareOrdinal(a.WorkerId, b.WorkerId));
        return Task.FromResult<IReadOnlyList<WorkerHeartbeat>>(workers);
    }

    private string PackageDirectory(ModelRef model) => Path.Combine(_root, SafeName(model.Name), SafeName(model.Version));

    private string InfoPath(ModelRef model) => Path.Combine(_meta, "models", SafeName(model.ToString()) + ".json");

    private RegisteredModel? ReadInfo(ModelRef model)
    {
        var path = InfoPath(model);
        return File.Exists(path) ? RegistryJson.Deserialize<RegisteredModel>(File.ReadAllText(path)) : null;
    }

    private static List<string> ReadLines(string path)
    {
        var lines = new List<string>();
        if (File.Exists(path))
        {
            foreach (var line in File.ReadAllLines(path))
            {
                if (line.Length > 0)
                {
                    lines.Add(line);
                }
            }
        }

        return lines;
    }

    private static void WriteAtomically(string path, string content)
    {
        var temp = path + ".tmp-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllText(temp, content);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Model names and versions become path segments: refuse anything that could leave the root.</summary>
    private static string SafeName(string segment)
    {
        if (segment.Length == 0 || segment is "." or ".." || segment.IndexOfAny(['/', '\\', '\0']) >= 0)
        {
            throw new RegistryException($"'{segment}' cannot be used as a model name or version");
        }

        return segment;
    }

    private async Task<IDisposable> LockAsync(CancellationToken cancellationToken)
    {
        var path = Path.Combine(_meta, "lock");
        var deadline = DateTime.UtcNow + s_lockTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
