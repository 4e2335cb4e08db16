using System.Text;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Registry;

/// <summary>
/// The registry in a local directory, for the embedded mode and single-machine use: packages in the usual
/// <c>ROOT/&lt;name&gt;/&lt;version&gt;/</c> layout, registry records under <c>ROOT/.registry/</c>: <c>models/*.json</c>
/// (descriptions), <c>surveys/SURVEY/active.json</c>, <c>history.jsonl</c>, <c>shadow.json</c>,
/// <c>shadow-stats/CANDIDATE~ACTIVE.json</c>, <c>metadata.json</c>, <c>audit.jsonl</c>, <c>workers/*.json</c> (the
/// single-pointer <c>active.json</c>/<c>history.jsonl</c> of older registries are migrated on first use). Every change
/// holds an exclusive lock file, so processes on one machine see each change whole. Workers poll (there is no pub/sub).
/// </summary>
public sealed class DirectoryModelRegistry : IModelRegistry
{
    private static readonly TimeSpan s_lockTimeout = TimeSpan.FromSeconds(30);

    private readonly string _root;
    private readonly string _meta;
    private volatile bool _migrated;

    public DirectoryModelRegistry(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        _root = Path.GetFullPath(root);
        _meta = Path.Combine(_root, ".registry");

        // Nothing is made here: reading (models list, status) must not leave a .registry behind in whatever directory it
        // was pointed at; the first change makes it (LockAsync).
    }

    public string Root => _root;

    // A registry written before per-survey pointers kept one pointer and one history here; migrated on first use.
    private string LegacyActivePath => Path.Combine(_meta, "active.json");

    private string LegacyHistoryPath => Path.Combine(_meta, "history.jsonl");

    private string MetadataPath => Path.Combine(_meta, "metadata.json");

    private string AuditPath => Path.Combine(_meta, "audit.jsonl");

    private string WorkersPath => Path.Combine(_meta, "workers");

    public async Task<RegisteredModel> PushAsync(ModelPackageBytes package, string pushedBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(package);
        var model = PackageDescriptions.Describe(package, pushedBy, DateTimeOffset.UtcNow);
        using var _ = await LockAsync(cancellationToken).ConfigureAwait(false);
        var existing = ReadInfo(model.Ref);
        var dir = PackageDirectory(model.Ref);
        if (existing is not null)
        {
            // Pushed before: the same model (else refused), its stored files restored if they were damaged or deleted
            // since (it said "pushed" and left them as they were).
            if (PackageDescriptions.RepushProblem(existing, model) is { } problem)
            {
                throw new RegistryException(problem);
            }

            var manifestPath = Path.Combine(dir, ModelPackage.ManifestFileName);
            var onnxPath = Path.Combine(dir, ModelPackage.OnnxFileName);
            var stored = File.Exists(manifestPath) && File.Exists(onnxPath)
                ? new ModelPackageBytes(await File.ReadAllBytesAsync(manifestPath, cancellationToken).ConfigureAwait(false), await File.ReadAllBytesAsync(onnxPath, cancellationToken).ConfigureAwait(false))
                : null;
            if (PackageDescriptions.Repair(existing, model, stored) is not { } repaired)
            {
                return existing;
            }

            Directory.CreateDirectory(dir);
            await File.WriteAllBytesAsync(onnxPath, package.Onnx, cancellationToken).ConfigureAwait(false);
            await File.WriteAllBytesAsync(manifestPath, package.Manifest, cancellationToken).ConfigureAwait(false);
            WriteAtomically(InfoPath(model.Ref), RegistryJson.Serialize(repaired));
            return repaired;
        }

        var nameDir = Path.GetDirectoryName(dir)!;
        var created = !Directory.Exists(nameDir) ? nameDir : !Directory.Exists(dir) ? dir : null;
        try
        {
            Directory.CreateDirectory(dir);
            Directory.CreateDirectory(Path.GetDirectoryName(InfoPath(model.Ref))!);
            await File.WriteAllBytesAsync(Path.Combine(dir, ModelPackage.OnnxFileName), package.Onnx, cancellationToken).ConfigureAwait(false);
            await File.WriteAllBytesAsync(Path.Combine(dir, ModelPackage.ManifestFileName), package.Manifest, cancellationToken).ConfigureAwait(false);
            WriteAtomically(InfoPath(model.Ref), RegistryJson.Serialize(model));
            return model;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && created is not null)
        {
            // A push that failed part-way (a name too long for the record's file name) left package files no record names.
            try
            {
                Directory.Delete(created, recursive: true);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // what is left is named by the message below
            }

            throw new RegistryException($"{model.Ref} could not be pushed to {_root}: {e.Message}", e);
        }
    }

    public Task<IReadOnlyList<RegisteredModel>> ListAsync(CancellationToken cancellationToken = default)
    {
        var models = new List<RegisteredModel>();
        var dir = Path.Combine(_meta, "models");
        foreach (var file in FolderExists(dir) ? Directory.GetFiles(dir, "*.json") : [])
        {
            // A record is named after its model: a copy under another name listed the model twice.
            models.Add(CheckNamed(ReadJson<RegisteredModel>(file), file));
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

    public async Task<ModelManifest?> GetManifestAsync(ModelRef model, CancellationToken cancellationToken = default)
    {
        if (ReadInfo(model) is not { } info)
        {
            return null;
        }

        var path = Path.Combine(PackageDirectory(model), ModelPackage.ManifestFileName);
        try
        {
            return PackageDescriptions.VerifyManifest(info, await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false));
        }
        catch (IOException e)
        {
            throw new RegistryException($"{model}: model.json cannot be read from {path}: {e.Message}", e);
        }
    }

    public async Task<IReadOnlyList<string>> GetSurveysAsync(CancellationToken cancellationToken = default)
    {
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        var surveys = new List<string>();
        var dir = Path.Combine(_meta, "surveys");
        if (FolderExists(dir))
        {
            foreach (var f in Directory.GetFiles(dir))
            {
                // A survey's folder made a file: the survey was left out of status without a word.
                if (RegistryNames.IsSurvey(Path.GetFileName(f)))
                {
                    _ = FolderExists(f);
                }
            }

            foreach (var d in Directory.GetDirectories(dir))
            {
                var survey = Path.GetFileName(d);
                if (RegistryNames.IsSurvey(survey) && (RecordExists(ActivePath(survey)) || RecordExists(ShadowPath(survey))))
                {
                    surveys.Add(survey);
                }
            }
        }

        surveys.Sort(StringComparer.Ordinal);
        return surveys;
    }

    public async Task<SurveyPointers> GetSurveyAsync(string survey, CancellationToken cancellationToken = default)
    {
        RegistryNames.CheckSurvey(survey);
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        var history = ReadLines(HistoryPath(survey));
        return new SurveyPointers
        {
            Survey = survey,
            Active = ReadPointer(ActivePath(survey), survey, PointerRoles.Active),
            Shadow = ReadPointer(ShadowPath(survey), survey, PointerRoles.Shadow),
            Previous = history.Count == 0 ? null : RegistryJson.Deserialize<ActivePointer>(history[^1], $"{HistoryPath(survey)} (last line)") with { Survey = survey, Role = PointerRoles.Active },
        };
    }

    public async Task<RegistrySnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default)
    {
        var map = new Dictionary<string, SurveyPointers>(StringComparer.Ordinal);
        foreach (var survey in await GetSurveysAsync(cancellationToken).ConfigureAwait(false))
        {
            map[survey] = new SurveyPointers
            {
                Survey = survey,
                Active = ReadPointer(ActivePath(survey), survey, PointerRoles.Active),
                Shadow = ReadPointer(ShadowPath(survey), survey, PointerRoles.Shadow),
            };
        }

        return new RegistrySnapshot { Surveys = map, MetadataSources = ReadMetadata() };
    }

    public async Task<ActivePointer?> GetActiveAsync(string survey, CancellationToken cancellationToken = default)
    {
        RegistryNames.CheckSurvey(survey);
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        return ReadPointer(ActivePath(survey), survey, PointerRoles.Active);
    }

    public async Task<ActivePointer?> GetPreviousAsync(string survey, CancellationToken cancellationToken = default) =>
        (await GetSurveyAsync(survey, cancellationToken).ConfigureAwait(false)).Previous;

    public async Task SetActiveAsync(IReadOnlyList<PointerMove> moves, CancellationToken cancellationToken = default)
    {
        RegistryNames.CheckMoves(moves);
        if (moves.Count == 0)
        {
            return;
        }

        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        using var _ = await LockAsync(cancellationToken).ConfigureAwait(false);

        // Every survey's compare-and-set is checked, and everything serialised, before anything is written: the pointers move
        // together, and never without their audit records.
        // The metadata sources each model needs are checked here too, under the same lock as `models metadata remove`:
        // checked before it (in the promoter), a source removed meanwhile left an active model no worker would serve.
        var writes = new List<(string Survey, ActivePointer? Current, string Pointer, bool ClearShadow)>(moves.Count);
        var audit = new StringBuilder();
        var declared = ReadMetadata();
        foreach (var move in moves)
        {
            var (survey, expectedCurrent, next, record) = move;
            var current = ReadPointer(ActivePath(survey), survey, PointerRoles.Active);
            if (PackageDescriptions.Identity(current) != PackageDescriptions.Identity(expectedCurrent))
            {
                throw new RegistryException(RegistryNames.ConflictMessage(survey, moves.Count));
            }

            CheckSourcesDeclared(declared, next.Ref, survey, move.RequiredSources);
            writes.Add((survey, current, RegistryJson.Serialize(next with { Survey = survey, Role = PointerRoles.Active }), false));
            audit.Append(RegistryJson.Serialize(record with { Survey = survey })).Append('\n');

            // Promoting the shadow ends its shadowing, in the same change: a shadow set meanwhile to the model promoted
            // would otherwise be scored beside itself.
            if (ReadPointer(ShadowPath(survey), survey, PointerRoles.Shadow) is { } shadow && shadow.Ref == next.Ref)
            {
                writes[^1] = writes[^1] with { ClearShadow = true };
                audit.Append(RegistryJson.Serialize(RegistryNames.ShadowClearedByPromotion(survey, next, record))).Append('\n');
            }
        }

        using var change = new StagedChange(this);
        foreach (var (survey, current, pointer, clearShadow) in writes)
        {
            Directory.CreateDirectory(SurveyDirectory(survey));
            if (current is not null)
            {
                change.Append(HistoryPath(survey), RegistryJson.Serialize(current) + "\n");
            }

            change.Replace(ActivePath(survey), pointer);
            if (clearShadow)
            {
                change.Delete(ShadowPath(survey));
            }
        }

        change.Append(AuditPath, audit.ToString());
        change.Commit();
    }

    public async Task<ActivePointer> RollbackAsync(string survey, ActivePointer expectedCurrent, PromotionRecord record, IReadOnlyList<string>? requiredSources = null, CancellationToken cancellationToken = default)
    {
        RegistryNames.CheckSurvey(survey);
        ArgumentNullException.ThrowIfNull(expectedCurrent);
        ArgumentNullException.ThrowIfNull(record);
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        using var _ = await LockAsync(cancellationToken).ConfigureAwait(false);
        var current = ReadPointer(ActivePath(survey), survey, PointerRoles.Active);
        if (PackageDescriptions.Identity(current) != PackageDescriptions.Identity(expectedCurrent))
        {
            throw new RegistryException($"the active model of {survey} changed while rolling back; check again");
        }

        var history = ReadLines(HistoryPath(survey));
        if (history.Count == 0)
        {
            throw new RegistryException($"{survey} has no earlier model to roll back to");
        }

        // Active again since the rollback (the history entry keeps the time it was first promoted).
        var previous = RegistryJson.Deserialize<ActivePointer>(history[^1], $"{HistoryPath(survey)} (last line)") with { Survey = survey, Role = PointerRoles.Active, SinceUtc = record.Utc };
        var audit = RegistryJson.Serialize(record with { Survey = survey }) + "\n";

        // Under the lock, as for promotions: the sources the restored model needs were checked before it by the promoter,
        // and a `metadata remove` meanwhile left an active model no worker serves; a shadow of the restored model set
        // meanwhile would be scored beside itself (until 2026-12-08 both were checked outside this step).
        CheckSourcesDeclared(ReadMetadata(), previous.Ref, survey, requiredSources ?? []);
        var clearShadow = ReadPointer(ShadowPath(survey), survey, PointerRoles.Shadow) is { } shadow && shadow.Ref == previous.Ref;
        if (clearShadow)
        {
            audit += RegistryJson.Serialize(RegistryNames.ShadowClearedByRollback(survey, previous, record)) + "\n";
        }

        history.RemoveAt(history.Count - 1);
        using var change = new StagedChange(this);
        change.Replace(HistoryPath(survey), history.Count == 0 ? string.Empty : string.Join('\n', history) + "\n");
        change.Replace(ActivePath(survey), RegistryJson.Serialize(previous));
        if (clearShadow)
        {
            change.Delete(ShadowPath(survey));
        }

        change.Append(AuditPath, audit);
        change.Commit();
        return previous;
    }

    public Task<ActivePointer?> GetShadowAsync(string survey, CancellationToken cancellationToken = default) =>
        Task.FromResult(ReadPointer(ShadowPath(RegistryNames.CheckSurvey(survey)), survey, PointerRoles.Shadow));

    public async Task SetShadowAsync(IReadOnlyList<ShadowMove> moves, CancellationToken cancellationToken = default)
    {
        RegistryNames.CheckMoves(moves);
        if (moves.Count == 0)
        {
            return;
        }

        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        var audit = new StringBuilder();
        var writes = new List<(string Survey, string? Pointer)>(moves.Count);
        foreach (var (survey, shadow, record) in moves)
        {
            audit.Append(RegistryJson.Serialize(record with { Survey = survey })).Append('\n');
            writes.Add((survey, shadow is null ? null : RegistryJson.Serialize(shadow with { Survey = survey, Role = PointerRoles.Shadow })));
        }

        using var _ = await LockAsync(cancellationToken).ConfigureAwait(false);

        // Checked under the lock, as promotions are: a shadow set from what was read before (another operator's shadow,
        // the model promoted meanwhile, a source removed meanwhile) is refused, and nothing is set.
        var declared = ReadMetadata();
        foreach (var move in moves)
        {
            var current = ReadPointer(ShadowPath(move.Survey), move.Survey, PointerRoles.Shadow);
            if (move.CompareAndSet && PackageDescriptions.Identity(current) != PackageDescriptions.Identity(move.ExpectedCurrent))
            {
                throw new RegistryException(RegistryNames.ShadowConflictMessage(move.Survey, moves.Count));
            }

            if (move.Shadow is { } shadow)
            {
                if (ReadPointer(ActivePath(move.Survey), move.Survey, PointerRoles.Active) is { } active && active.Ref == shadow.Ref)
                {
                    throw new RegistryException(RegistryNames.ShadowIsActiveMessage(shadow.Ref.ToString(), move.Survey));
                }

                CheckSourcesDeclared(declared, shadow.Ref, move.Survey, move.RequiredSources);
            }
        }

        using var change = new StagedChange(this);
        foreach (var (survey, pointer) in writes)
        {
            Directory.CreateDirectory(SurveyDirectory(survey));
            if (pointer is null)
            {
                change.Delete(ShadowPath(survey));
            }
            else
            {
                change.Replace(ShadowPath(survey), pointer);
            }
        }

        change.Append(AuditPath, audit.ToString());
        change.Commit();
    }

    public async Task AddShadowStatisticsAsync(ShadowPair pair, IReadOnlyDictionary<string, double> increments, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(increments);
        if (increments.Count == 0)
        {
            return;
        }

        using var _ = await LockAsync(cancellationToken).ConfigureAwait(false);
        var path = StatsPath(pair);
        var fields = RecordExists(path) ? ReadJson<Dictionary<string, double>>(path) : new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (k, v) in increments)
        {
            fields[k] = fields.GetValueOrDefault(k) + v;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        WriteAtomically(path, RegistryJson.Serialize(fields));
    }

    public Task<ShadowStatistics?> GetShadowStatisticsAsync(ShadowPair pair, CancellationToken cancellationToken = default)
    {
        var path = StatsPath(pair);
        return Task.FromResult(RecordExists(path) ? ShadowStatistics.Read(pair, ReadJson<Dictionary<string, double>>(path), path) : null);
    }

    public Task<IReadOnlyList<MetadataSourceDeclaration>> GetMetadataSourcesAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<MetadataSourceDeclaration>>(ReadMetadata());

    public async Task SetMetadataSourceAsync(MetadataSourceDeclaration declaration, PromotionRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(declaration);
        ArgumentNullException.ThrowIfNull(record);
        if (declaration.Validate() is { } problem)
        {
            throw new RegistryException(problem);
        }

        var audit = RegistryJson.Serialize(record with { Survey = declaration.Survey }) + "\n";
        using var _ = await LockAsync(cancellationToken).ConfigureAwait(false);
        var list = ReadMetadata();
        list.RemoveAll(d => d.Survey == declaration.Survey && d.Source == declaration.Source);
        list.Add(declaration);
        using var change = new StagedChange(this);
        change.Replace(MetadataPath, RegistryJson.Serialize(list));
        change.Append(AuditPath, audit);
        change.Commit();
    }

    public async Task<bool> RemoveMetadataSourceAsync(string survey, string source, PromotionRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var audit = RegistryJson.Serialize(record with { Survey = survey }) + "\n";
        await EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        using var _ = await LockAsync(cancellationToken).ConfigureAwait(false);
        var list = ReadMetadata();
        if (list.RemoveAll(d => d.Survey == survey && d.Source == source) == 0)
        {
            return false;
        }

        // Under the lock that promotions and shadows take: checked before it, a model promoted meanwhile kept a source
        // no longer declared.
        if (RegistryNames.IsSurvey(survey))
        {
            var needing = await ModelPromoter.ModelsNeedingSourceAsync(this, ReadPointer(ActivePath(survey), survey, PointerRoles.Active), ReadPointer(ShadowPath(survey), survey, PointerRoles.Shadow), source, cancellationToken).ConfigureAwait(false);
            if (needing.Count > 0)
            {
                throw new RegistryException(ModelPromoter.NeedingSourceMessage(needing, survey, source));
            }
        }

        using var change = new StagedChange(this);
        change.Replace(MetadataPath, RegistryJson.Serialize(list));
        change.Append(AuditPath, audit);
        change.Commit();
        return true;
    }

    public Task<IReadOnlyList<PromotionRecord>> GetAuditAsync(CancellationToken cancellationToken = default)
    {
        var records = new List<PromotionRecord>();
        var lines = ReadLines(AuditPath);
        for (var i = 0; i < lines.Count; i++)
        {
            records.Add(RegistryJson.Deserialize<PromotionRecord>(lines[i], $"{AuditPath} (record {i + 1})"));
        }

        return Task.FromResult<IReadOnlyList<PromotionRecord>>(records);
    }

    public Task<AuditTail> GetRecentAuditAsync(int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var lines = TailLines(AuditPath, (long)count + 1);
        var older = lines.Count > count ? 1 : 0;
        var records = new List<PromotionRecord>(lines.Count - older);
        for (var i = older; i < lines.Count; i++)
        {
            records.Add(RegistryJson.Deserialize<PromotionRecord>(lines[i], $"{AuditPath} (record {lines.Count - i} from the end)"));
        }

        return Task.FromResult(new AuditTail(records, older == 1));
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
        if (FolderExists(WorkersPath))
        {
            foreach (var file in Directory.GetFiles(WorkersPath, "*.json"))
            {
                // A damaged heartbeat is one worker's ephemeral note: left out, as in the Redis registry.
                if (RedisModelRegistry.TryHeartbeat(() => ReadJson<WorkerHeartbeat>(file)) is not { } heartbeat)
                {
                    continue;
                }

                if (RedisModelRegistry.IsLive(heartbeat, maxAge))
                {
                    workers.Add(heartbeat);
                }
            }
        }

        workers.Sort(static (a, b) => string.CompareOrdinal(a.WorkerId, b.WorkerId));
        return Task.FromResult<IReadOnlyList<WorkerHeartbeat>>(workers);
    }

    public Task RemoveHeartbeatAsync(string workerId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workerId);
        var path = Path.Combine(WorkersPath, SafeName(workerId) + ".json");
        if (File.Exists(path))
        {
            File.Delete(path);
        }

        return Task.CompletedTask;
    }

    public Task<int> PruneHeartbeatsAsync(TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        var removed = 0;
        if (FolderExists(WorkersPath))
        {
            foreach (var file in Directory.GetFiles(WorkersPath, "*.json"))
            {
                if (RedisModelRegistry.TryHeartbeat(() => ReadJson<WorkerHeartbeat>(file)) is not { } heartbeat || !RedisModelRegistry.IsLive(heartbeat, olderThan))
                {
                    try
                    {
                        File.Delete(file);
                        removed++;
                    }
                    catch (IOException)
                    {
                        // Gone already, or another worker's prune got there first.
                    }
                }
            }
        }

        return Task.FromResult(removed);
    }

    private string SurveyDirectory(string survey) => Path.Combine(_meta, "surveys", RegistryNames.CheckSurvey(survey));

    private string ActivePath(string survey) => Path.Combine(SurveyDirectory(survey), "active.json");

    private string HistoryPath(string survey) => Path.Combine(SurveyDirectory(survey), "history.jsonl");

    private string ShadowPath(string survey) => Path.Combine(SurveyDirectory(survey), "shadow.json");

    private string StatsPath(ShadowPair pair) =>
        Path.Combine(SurveyDirectory(pair.Survey), "shadow-stats", SafeName(pair.Candidate) + "~" + SafeName(pair.Active) + ".json");

    private ActivePointer? ReadPointer(string path, string survey, string role) =>
        RecordExists(path) ? ReadJson<ActivePointer>(path) with { Survey = survey, Role = role } : null;

    private static void CheckSourcesDeclared(List<MetadataSourceDeclaration> declared, ModelRef model, string survey, IReadOnlyList<string> sources)
    {
        foreach (var source in sources)
        {
            if (!declared.Any(d => d.Survey == survey && d.Source == source))
            {
                throw new RegistryException(RegistryNames.MissingSourceMessage(model.ToString(), survey, source));
            }
        }
    }

    private List<MetadataSourceDeclaration> ReadMetadata()
    {
        var list = RecordExists(MetadataPath) ? ReadJson<List<MetadataSourceDeclaration>>(MetadataPath) : [];
        list.Sort(static (a, b) => string.CompareOrdinal(a.Survey + "/" + a.Source, b.Survey + "/" + b.Source));
        return list;
    }


    /// <summary>Moves a single-pointer registry's pointer and history to the surveys its model declares (once per instance).</summary>
    private async Task EnsureMigratedAsync(CancellationToken cancellationToken)
    {
        if (_migrated)
        {
            return;
        }

        if (RecordExists(LegacyActivePath))
        {
            using var _ = await LockAsync(cancellationToken).ConfigureAwait(false);
            if (RecordExists(LegacyActivePath))
            {
                var legacy = ReadJson<ActivePointer>(LegacyActivePath);
                var surveys = await PackageDescriptions.SurveysOfAsync(this, legacy.Ref, cancellationToken).ConfigureAwait(false);
                var history = RecordExists(LegacyHistoryPath) ? File.ReadAllText(LegacyHistoryPath) : string.Empty;
                foreach (var survey in surveys)
                {
                    if (!RecordExists(ActivePath(survey)))
                    {
                        Directory.CreateDirectory(SurveyDirectory(survey));
                        WriteAtomically(HistoryPath(survey), history);
                        WriteAtomically(ActivePath(survey), File.ReadAllText(LegacyActivePath));
                    }
                }

                File.AppendAllText(AuditPath, RegistryJson.Serialize(PackageDescriptions.MigrationRecord(legacy, surveys)) + "\n");
                File.Delete(LegacyHistoryPath);
                File.Delete(LegacyActivePath);
            }
        }

        _migrated = true;
    }

    private string PackageDirectory(ModelRef model) => Path.Combine(_root, SafeName(model.Name), SafeName(model.Version));

    private string InfoPath(ModelRef model) => Path.Combine(_meta, "models", SafeName(model.ToString()) + ".json");

    // The record asked for must be the model's own: a copy filed under another name was promoted under that name while the
    // pointer named the copied model.
    private RegisteredModel? ReadInfo(ModelRef model)
    {
        var path = InfoPath(model);
        return RecordExists(path) ? CheckNamed(ReadJson<RegisteredModel>(path), path) : null;
    }

    private static RegisteredModel CheckNamed(RegisteredModel model, string path) =>
        Path.GetFileName(path) == model.Ref + ".json"
            ? model
            : throw new RegistryException($"registry record {path} holds {model.Ref}, whose record is {model.Ref}.json: rename or remove it") { DamagedRecord = true };

    /// <summary>
    /// Whether a registry record file is there. Something else in its place (a directory where <c>active.json</c> belongs)
    /// is a damaged registry, said as one: read as "no record", it showed no active model and <c>score --registry</c> fell
    /// back without a word to the newest package.
    /// </summary>
    private bool RecordExists(string path) =>
        PendingExists(path) ?? (File.Exists(path) || (Directory.Exists(path)
            ? throw new RegistryException($"registry record {path} is a directory, not a file: repair it, or remove it to forget what it held")
            : NoFileInPlaceOfAFolder(path)));

    /// <summary>Whether a registry folder is there; a file in its place is a damaged registry (<see cref="RecordExists"/>).</summary>
    private static bool FolderExists(string path) =>
        Directory.Exists(path) || (File.Exists(path)
            ? throw new RegistryException($"registry folder {path} is a file, not a directory: repair it, or remove it to forget what it held")
            : NoFileInPlaceOfAFolder(path));

    // False, after checking the folders above a path that is not there: one of them a file (.registry, or surveys/ztf, made a
    // file) read as an empty registry, or as "no model is active for ztf", exit 0 or 1 with nothing said of the damage.
    private static bool NoFileInPlaceOfAFolder(string path)
    {
        for (var dir = Path.GetDirectoryName(path); !string.IsNullOrEmpty(dir) && !Directory.Exists(dir); dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(dir))
            {
                throw new RegistryException($"registry folder {dir} is a file, not a directory: repair it, or remove it to forget what it held");
            }
        }

        return false;
    }

    private T ReadJson<T>(string path) => RegistryJson.Deserialize<T>(PendingText(path) ?? File.ReadAllText(path), path);

    /// <summary>
    /// The non-empty lines of a record file (a history, the audit), as the last committed change left them: a change still
    /// being applied (or interrupted by a crash) is read as applied (<see cref="PendingText"/>), and a last line without its
    /// newline that is not JSON (a write torn by a crash or a full disk under an older release) is left out.
    /// </summary>
    private List<string> ReadLines(string path)
    {
        var lines = new List<string>();
        var text = PendingText(path) ?? (RecordExists(path) ? File.ReadAllText(path) : null);
        if (text is null)
        {
            return lines;
        }

        foreach (var line in text.Split('\n'))
        {
            var trimmed = line.TrimEnd('\r');
            if (trimmed.Length > 0)
            {
                lines.Add(trimmed);
            }
        }

        if (lines.Count > 0 && !text.EndsWith('\n') && !IsJson(lines[^1]))
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines;
    }

    /// <summary>Whether <paramref name="line"/> is one JSON value (a record, whatever its fields).</summary>
    private static bool IsJson(string line)
    {
        try
        {
            using var _ = System.Text.Json.JsonDocument.Parse(line);
            return true;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// The last <paramref name="count"/> non-empty lines of the file (oldest first), read backwards from its end in blocks:
    /// a long file costs what those lines cost, not what the whole file does.
    /// </summary>
    private List<string> TailLines(string path, long count)
    {
        const int Block = 64 * 1024;
        if (PendingText(path) is not null)
        {
            // A change being applied, or left by a crash: read as applied (rare; the whole file is read).
            var all = ReadLines(path);
            return all.Count > count ? all.GetRange(all.Count - (int)count, (int)count) : all;
        }

        var lines = new List<string>();
        if (!RecordExists(path))
        {
            return lines;
        }

        // One line more than asked: the last may be a torn write, left out below.
        var wanted = count + 1;

        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var start = RandomAccess.GetLength(file);

        // The bytes from start to the end of the file; before start == 0, its first line may be cut.
        var tail = Array.Empty<byte>();
        while (start > 0)
        {
            var size = (int)Math.Min(Block, start);
            start -= size;
            var grown = new byte[size + tail.Length];
            var read = 0;
            while (read < size)
            {
                var n = RandomAccess.Read(file, grown.AsSpan(read, size - read), start + read);
                if (n == 0)
                {
                    throw new IOException($"{path} became shorter while it was read");
                }

                read += n;
            }

            tail.CopyTo(grown, size);
            tail = grown;
            if (CompleteLines(tail, start == 0) > wanted)
            {
                break;
            }
        }

        ReadOnlySpan<byte> text = tail;
        if (start > 0)
        {
            text = text[(text.IndexOf((byte)'\n') + 1)..];
        }

        foreach (var range in text.Split((byte)'\n'))
        {
            var line = text[range].TrimEnd((byte)'\r');
            if (line.Length > 0)
            {
                lines.Add(System.Text.Encoding.UTF8.GetString(line));
            }
        }

        if (lines.Count > 0 && tail.Length > 0 && tail[^1] != (byte)'\n' && !IsJson(lines[^1]))
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines.Count > count ? lines.GetRange(lines.Count - (int)count, (int)count) : lines;
    }

    /// <summary>How many non-empty lines lie wholly in <paramref name="bytes"/> (the first counts only at the start of the file).</summary>
    private static long CompleteLines(ReadOnlySpan<byte> bytes, bool atStart)
    {
        if (!atStart)
        {
            var first = bytes.IndexOf((byte)'\n');
            bytes = first < 0 ? [] : bytes[(first + 1)..];
        }

        long lines = 0;
        foreach (var range in bytes.Split((byte)'\n'))
        {
            if (!bytes[range].TrimEnd((byte)'\r').IsEmpty)
            {
                lines++;
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
        Directory.CreateDirectory(_meta);
        var path = Path.Combine(_meta, "lock");

        // The lock is a file the registry makes and deletes: a link in its place was followed (a write created the file it
        // names, anywhere), a directory was "unexpected error".
        if (new FileInfo(path).LinkTarget is { } target)
        {
            throw new RegistryException($"registry lock {path} is a symbolic link (to {target}), not the file the registry makes: remove it");
        }

        if (Directory.Exists(path))
        {
            throw new RegistryException($"registry lock {path} is a directory, not the file the registry makes: remove it");
        }

        var deadline = DateTime.UtcNow + s_lockTimeout;
        FileStream held;
        while (true)
        {
            try
            {
                Fault?.Invoke("lock", path);
                held = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
                break;
            }
            catch (IOException e) when (IsHeldByAnother(e) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e) when (IsHeldByAnother(e))
            {
                throw new RegistryException($"registry lock {path} was held by another command for more than {s_lockTimeout.TotalSeconds:F0} s; try again (a lock is released when its process ends)", e);
            }
            catch (IOException e)
            {
                // A read-only file system, a full disk, an I/O error: said at once (until 2026-12-08 every one of them was
                // retried for 30 s and then called a lock held by another command).
                throw new RegistryException($"registry lock {path} cannot be taken: {e.Message}", e);
            }
        }

        try
        {
            // What a command that died while holding the lock left: a change it had committed but not yet applied is
            // completed, and the files it wrote aside are removed (all of them are written under the lock).
            CompletePendingChange();
            RemoveStaleTemporaryFiles();
            return held;
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>The lock could not be taken because another open handle holds it (and only then is it worth waiting).</summary>
    internal static bool IsHeldByAnother(IOException e) =>
        e.HResult is 11 or 35 // EWOULDBLOCK/EAGAIN from flock on Linux, macOS
            or unchecked((int)0x80070020) or unchecked((int)0x80070021); // ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION

    /// <summary>
    /// Fault injection for tests: called with what the registry is about to do ("lock", "stage", "journal", "append",
    /// "rename") and the file, before it does it (for "append", after half the record is written); it may throw, as a full
    /// disk or a read-only file system would (an <see cref="IOException"/>), or as a process killed there would
    /// (<see cref="SimulatedCrashException"/>: nothing is cleaned up).
    /// </summary>
    internal Action<string, string>? Fault { get; set; }

    /// <summary>Thrown by a <see cref="Fault"/> hook to stop a change where it is, as if its process had been killed.</summary>
    internal sealed class SimulatedCrashException : Exception
    {
        public SimulatedCrashException()
            : base("simulated crash")
        {
        }
    }

    /// <summary>
    /// The change committed but not yet wholly applied: written whole (aside, then renamed into place) before any record
    /// file is touched, and deleted once every file says what it says. Its presence is the commit point of a change.
    /// </summary>
    private string JournalPath => Path.Combine(_meta, "change.json");

    private ChangeJournal? ReadJournal()
    {
        string text;
        try
        {
            text = File.ReadAllText(JournalPath);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        return RegistryJson.Deserialize<ChangeJournal>(text, JournalPath);
    }

    /// <summary>
    /// A record file's text as the pending change (<see cref="JournalPath"/>) makes it, or null when no change is pending
    /// for it: readers see a change whole from its commit point on, whether or not its files have been written yet.
    /// </summary>
    private string? PendingText(string path)
    {
        if (!File.Exists(JournalPath) || ReadJournal() is not { } journal)
        {
            return null;
        }

        var relative = Path.GetRelativePath(_meta, path);
        foreach (var replacement in journal.Replacements)
        {
            if (replacement.Path == relative)
            {
                return replacement.Content;
            }
        }

        foreach (var append in journal.Appends)
        {
            if (append.Path == relative)
            {
                var before = Array.Empty<byte>();
                if (File.Exists(path))
                {
                    using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    before = new byte[Math.Min(append.Length, RandomAccess.GetLength(file))];
                    var read = 0;
                    while (read < before.Length && RandomAccess.Read(file, before.AsSpan(read), read) is var n and > 0)
                    {
                        read += n;
                    }
                }

                return Encoding.UTF8.GetString(before) + append.Text;
            }
        }

        return null;
    }

    /// <summary>Whether the pending change leaves the record there (null: it does not touch it).</summary>
    private bool? PendingExists(string path)
    {
        if (!File.Exists(JournalPath) || ReadJournal() is not { } journal)
        {
            return null;
        }

        var relative = Path.GetRelativePath(_meta, path);
        foreach (var replacement in journal.Replacements)
        {
            if (replacement.Path == relative)
            {
                return replacement.Content is not null;
            }
        }

        return journal.Appends.Any(a => a.Path == relative) ? true : null;
    }

    /// <summary>Applies a change its command committed but did not finish (killed, or its disk full after the commit point).</summary>
    private void CompletePendingChange()
    {
        if (ReadJournal() is not { } journal)
        {
            return;
        }

        var tag = "." + Guid.NewGuid().ToString("N")[..8];
        var renamed = 0;
        Apply(journal, journal.Replacements.Select(r => (Temp: (string?)null, r)).ToList(), tag, ref renamed);
        File.Delete(JournalPath);
    }

    /// <summary>
    /// Writes a committed change's files: each append at the length its file had when the change was made (a torn
    /// write of an earlier try cut off first), then each replacement and deletion. Idempotent: a crash part-way is completed
    /// by doing it again.
    /// </summary>
    private void Apply(ChangeJournal journal, List<(string? Temp, JournalReplacement Replacement)> replacements, string tag, ref int renamed)
    {
        foreach (var append in journal.Appends)
        {
            var path = Path.Combine(_meta, append.Path);
            using var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            if (file.Length > append.Length)
            {
                file.SetLength(append.Length);
            }

            file.Seek(0, SeekOrigin.End);
            var bytes = Encoding.UTF8.GetBytes(append.Text);
            file.Write(bytes, 0, bytes.Length / 2);
            Fault?.Invoke("append", path);
            file.Write(bytes, bytes.Length / 2, bytes.Length - (bytes.Length / 2));
            file.Flush(flushToDisk: true);
        }

        foreach (var (staged, replacement) in replacements)
        {
            var path = Path.Combine(_meta, replacement.Path);
            Fault?.Invoke("rename", path);
            if (replacement.Content is null)
            {
                File.Delete(path);
                renamed++;
                continue;
            }

            var temp = staged ?? WriteAside(path, replacement.Content, tag);
            File.Move(temp, path, overwrite: true);
            renamed++;
        }
    }

    /// <summary>Writes <paramref name="content"/> to a temporary file beside <paramref name="path"/>, on disk; returns its name.</summary>
    private string WriteAside(string path, string content, string tag)
    {
        var temp = path + ".tmp-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + tag;
        try
        {
            Fault?.Invoke(path == JournalPath ? "journal" : "stage", path);
            using var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None);
            file.Write(Encoding.UTF8.GetBytes(content));
            file.Flush(flushToDisk: true);
        }
        catch (Exception e) when (e is not SimulatedCrashException)
        {
            TryDelete(temp);
            throw;
        }

        return temp;
    }

    /// <summary>
    /// Removes the files written aside (<c>*.tmp-PID…</c>) in the folders whose files are written only under the lock: any
    /// there while this command holds it were left by a command that died, or failed without cleaning up.
    /// </summary>
    private void RemoveStaleTemporaryFiles()
    {
        var surveys = Path.Combine(_meta, "surveys");
        var folders = new List<string> { _meta, Path.Combine(_meta, "models") };
        if (Directory.Exists(surveys))
        {
            foreach (var survey in Directory.GetDirectories(surveys))
            {
                folders.Add(survey);
                folders.Add(Path.Combine(survey, "shadow-stats"));
            }
        }

        foreach (var folder in folders)
        {
            if (!Directory.Exists(folder))
            {
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(folder, "*.tmp-*"))
            {
                TryDelete(file);
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next command holding the lock.
        }
    }

    /// <summary>What a pending change appends to one record file, and the file's length before it (relative to .registry).</summary>
    internal sealed record JournalAppend(string Path, long Length, string Text);

    /// <summary>What a pending change writes in place of one record file (null: deletes it).</summary>
    internal sealed record JournalReplacement(string Path, string? Content);

    internal sealed record ChangeJournal(IReadOnlyList<JournalAppend> Appends, IReadOnlyList<JournalReplacement> Replacements);

    /// <summary>
    /// One change to several registry files, all or nothing for every reader and for a crash or a full disk part-way: every
    /// file is checked and every replacement written aside first (a directory in a record's place, a read-only file, a
    /// full disk fail there, before anything is changed); then the whole change is written to <see cref="JournalPath"/>
    /// (the commit point: readers read the registry as changed from then on); then the appends are written (the audit
    /// record among them) and the replacements renamed into place, and the journal deleted. A failure before the commit
    /// point changes nothing; one while the files are written cuts the appends back and deletes the journal, so nothing is
    /// changed either; a crash after the commit point is completed by the next command that takes the lock. Until
    /// 2026-12-08 the appends were written in place first: a full disk or a kill before the pointer's rename left the
    /// history grown and a torn audit line, and the pointer where it was.
    /// </summary>
    private sealed class StagedChange(DirectoryModelRegistry owner) : IDisposable
    {
        private readonly List<JournalAppend> _appends = [];
        private readonly List<JournalReplacement> _replacements = [];
        private readonly List<string> _staged = [];
        private readonly HashSet<string> _created = [];
        private readonly string _tag = "." + Guid.NewGuid().ToString("N")[..8];
        private bool _crashed;

        public void Append(string path, string text)
        {
            NotADirectory(path);
            var length = 0L;
            if (File.Exists(path))
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
                length = file.Length;

                // A last line cut short (a torn write of an older release, a hand edit without its newline) would take the
                // next record into it: a record is ended with its newline, and a torn one that is not JSON is cut off.
                if (length > 0)
                {
                    file.Seek(-1, SeekOrigin.End);
                    if (file.ReadByte() != '\n')
                    {
                        var lastLine = LastLineStart(file);
                        file.Seek(lastLine, SeekOrigin.Begin);
                        var bytes = new byte[length - lastLine];
                        file.ReadExactly(bytes);
                        if (IsJson(Encoding.UTF8.GetString(bytes)))
                        {
                            text = "\n" + text;
                        }
                        else
                        {
                            length = lastLine;
                        }
                    }
                }
            }
            else
            {
                _created.Add(path);
            }

            var relative = Path.GetRelativePath(owner._meta, path);
            var existing = _appends.FindIndex(a => a.Path == relative);
            if (existing >= 0)
            {
                _appends[existing] = _appends[existing] with { Text = _appends[existing].Text + text };
            }
            else
            {
                _appends.Add(new JournalAppend(relative, length, text));
            }
        }

        public void Replace(string path, string content)
        {
            NotADirectory(path);
            _replacements.Add(new JournalReplacement(Path.GetRelativePath(owner._meta, path), content));
        }

        public void Delete(string path)
        {
            NotADirectory(path);
            _replacements.Add(new JournalReplacement(Path.GetRelativePath(owner._meta, path), null));
        }

        public void Commit()
        {
            try
            {
                CommitCore();
            }
            catch (SimulatedCrashException)
            {
                _crashed = true;
                throw;
            }
        }

        private void CommitCore()
        {
            // Everything written aside first: a full disk or a read-only file fails here, with nothing changed.
            var replacements = new List<(string? Temp, JournalReplacement Replacement)>();
            try
            {
                foreach (var replacement in _replacements)
                {
                    var temp = replacement.Content is null ? null : owner.WriteAside(Path.Combine(owner._meta, replacement.Path), replacement.Content, _tag);
                    if (temp is not null)
                    {
                        _staged.Add(temp);
                    }

                    replacements.Add((temp, replacement));
                }

                var journal = new ChangeJournal(_appends, _replacements);
                var journalTemp = owner.WriteAside(owner.JournalPath, RegistryJson.Serialize(journal), _tag);
                File.Move(journalTemp, owner.JournalPath, overwrite: false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new RegistryException($"the registry change could not be written in {owner._meta}: {e.Message}; nothing was changed", e);
            }

            // Committed: readers see the change from here on.
            var renamed = 0;
            try
            {
                owner.Apply(new ChangeJournal(_appends, _replacements), replacements, _tag, ref renamed);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (renamed == 0 && Undo())
                {
                    throw new RegistryException($"the registry change could not be written in {owner._meta}: {e.Message}; nothing was changed", e);
                }

                throw new RegistryException($"the registry change could not be completed in {owner._meta}: {e.Message}; it is recorded in {owner.JournalPath}, and the next registry command completes it", e);
            }

            _staged.Clear();
            File.Delete(owner.JournalPath);
        }

        /// <summary>Cuts every append back and withdraws the journal (before any rename); false when that fails too.</summary>
        private bool Undo()
        {
            try
            {
                foreach (var append in _appends)
                {
                    var path = Path.Combine(owner._meta, append.Path);
                    if (!File.Exists(path))
                    {
                        continue;
                    }

                    if (_created.Contains(path))
                    {
                        // Made by this change: gone again, as it was.
                        File.Delete(path);
                        continue;
                    }

                    using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
                    stream.SetLength(Math.Min(append.Length, stream.Length));
                    stream.Flush(flushToDisk: true);
                }

                File.Delete(owner.JournalPath);
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        public void Dispose()
        {
            if (_crashed)
            {
                return;
            }

            foreach (var temp in _staged)
            {
                TryDelete(temp);
            }
        }

        private static long LastLineStart(FileStream file)
        {
            var position = file.Length - 1;
            var buffer = new byte[4096];
            while (position > 0)
            {
                var size = (int)Math.Min(buffer.Length, position);
                file.Seek(position - size, SeekOrigin.Begin);
                file.ReadExactly(buffer, 0, size);
                var newline = buffer.AsSpan(0, size).LastIndexOf((byte)'\n');
                if (newline >= 0)
                {
                    return position - size + newline + 1;
                }

                position -= size;
            }

            return 0;
        }

        private static void NotADirectory(string path)
        {
            if (Directory.Exists(path))
            {
                throw new RegistryException($"registry record {path} is a directory, not a file: repair it, or remove it to forget what it held") { DamagedRecord = true };
            }
        }
    }
}
