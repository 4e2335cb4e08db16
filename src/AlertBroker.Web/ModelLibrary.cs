using AlertBroker.Alerts;
using AlertBroker.Model.Features;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Packaging;
using AlertBroker.Model.Scoring;
using AlertBroker.Registry;
using AlertBroker.Worker.Scoring;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AlertBroker.Web;

/// <summary>Whether the model that scored an object can be had, and where from.</summary>
/// <param name="ModelId">The identity stored with the object's state: <c>name/version/sha256[..12]</c>.</param>
/// <param name="Model">The loaded model, or null when it is not available.</param>
/// <param name="Source">Where it was loaded from (the registry, a directory).</param>
/// <param name="Reason">Why it is not available.</param>
/// <param name="Classes">Class names, when known even without the model (from the registry's record).</param>
internal sealed record ModelLookup(string ModelId, ActiveModel? Model, string? Source, string? Reason, IReadOnlyList<string>? Classes)
{
    public bool Available => Model is not null;
}

/// <summary>
/// Finds and loads the model a state was scored with, by the identity stored beside the state
/// (<c>name/version/sha256[..12]</c>): first from the model registry (the package bytes, verified against their
/// SHA-256), then from model directories (<c>name/version/model.json</c> packages, like the checkout's <c>models/</c>).
/// A package whose SHA-256 does not start with the stored prefix is not the model that scored the object and is never
/// used. Loaded models are kept for the life of the process (one per model version found in the state: a few, each a
/// small ONNX Runtime session); a model that could not be found is looked for again after a short while, so a package
/// pushed later is picked up.
/// </summary>
/// <remarks>
/// All use of the model API (<see cref="ModelPackage"/>, <see cref="ActiveModel"/>, <see cref="BatchScorer"/>) is in this
/// class and <see cref="ProbabilityHistory"/>.
/// </remarks>
internal sealed class ModelLibrary : IDisposable
{
    private static readonly TimeSpan s_retryUnavailable = TimeSpan.FromSeconds(30);
    private readonly IModelRegistry? _registry;
    private readonly IReadOnlyList<string> _directories;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (Task<ModelLookup> Lookup, DateTime Expires)> _cache = new(StringComparer.Ordinal);

    public ModelLibrary(IModelRegistry? registry, IEnumerable<string?> directories, ILogger? logger = null)
    {
        _registry = registry;
        _directories = [.. directories.Where(d => !string.IsNullOrWhiteSpace(d) && Directory.Exists(d)).Select(d => Path.GetFullPath(d!)).Distinct(StringComparer.Ordinal)];
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The directories searched for packages.</summary>
    public IReadOnlyList<string> Directories => _directories;

    public Task<ModelLookup> FindAsync(string modelId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        lock (_gate)
        {
            if (_cache.TryGetValue(modelId, out var entry) && entry.Expires > DateTime.UtcNow)
            {
                return entry.Lookup;
            }

            var task = LoadAsync(modelId, CancellationToken.None);
            _cache[modelId] = (task, DateTime.UtcNow + s_retryUnavailable);
            _ = task.ContinueWith(
                t =>
                {
                    lock (_gate)
                    {
                        if (t.IsCompletedSuccessfully && t.Result.Available && _cache.TryGetValue(modelId, out var e) && e.Lookup == t)
                        {
                            _cache[modelId] = (t, DateTime.MaxValue);
                        }
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            return task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Packages found in the directories: (name, version, SHA-256, directory).</summary>
    public IReadOnlyList<(string Name, string Version, string Sha256, string Directory)> ListDirectoryPackages()
    {
        var list = new List<(string, string, string, string)>();
        foreach (var root in _directories)
        {
            foreach (var manifestPath in SafeManifests(root))
            {
                try
                {
                    var manifest = ModelPackage.ParseManifest(File.ReadAllBytes(manifestPath));
                    list.Add((manifest.Name, manifest.Version, manifest.Onnx.Sha256, Path.GetDirectoryName(manifestPath)!));
                }
                catch (Exception e) when (e is IOException or ModelPackageException or System.Text.Json.JsonException or UnauthorizedAccessException)
                {
                }
            }
        }

        return list;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var (task, _) in _cache.Values)
            {
                if (task.IsCompletedSuccessfully)
                {
                    task.Result.Model?.Dispose();
                }
            }

            _cache.Clear();
        }
    }

    /// <summary>Splits <c>name/version/sha256-prefix</c> (the name may itself hold slashes).</summary>
    public static bool TryParseId(string modelId, out string name, out string version, out string shaPrefix)
    {
        name = version = shaPrefix = string.Empty;
        var last = modelId.LastIndexOf('/');
        if (last <= 0)
        {
            return false;
        }

        var middle = modelId.LastIndexOf('/', last - 1);
        if (middle <= 0)
        {
            return false;
        }

        name = modelId[..middle];
        version = modelId[(middle + 1)..last];
        shaPrefix = modelId[(last + 1)..];
        return name.Length > 0 && version.Length > 0 && shaPrefix.Length > 0;
    }

    private async Task<ModelLookup> LoadAsync(string modelId, CancellationToken cancellationToken)
    {
        await Task.Yield();
        if (!TryParseId(modelId, out var name, out var version, out var shaPrefix))
        {
            return new ModelLookup(modelId, null, null, $"'{modelId}' is not a model identity (name/version/sha256-prefix)", null);
        }

        var reasons = new List<string>();
        IReadOnlyList<string>? classes = null;
        if (_registry is not null)
        {
            try
            {
                var registered = await _registry.GetAsync(new ModelRef(name, version), cancellationToken).ConfigureAwait(false);
                if (registered is null)
                {
                    reasons.Add($"the registry has no {name}@{version}");
                }
                else if (!registered.Sha256.StartsWith(shaPrefix, StringComparison.OrdinalIgnoreCase))
                {
                    reasons.Add($"the registry's {name}@{version} has SHA-256 {registered.Sha256[..Math.Min(12, registered.Sha256.Length)]}, not {shaPrefix}");
                }
                else
                {
                    classes = registered.Classes;
                    var bytes = await _registry.GetPackageAsync(registered.Ref, cancellationToken).ConfigureAwait(false);
                    // The smoke batch, as ActiveModel.Load runs it for a directory: a package whose network gives NaN (a
                    // registry written before the promotion gate ran it, or by hand) is unavailable with its reason, not a
                    // history of null probabilities.
                    var source = $"registry {name}@{version}";
                    var model = new ActiveModel(ModelPackager.Verified(ModelPackage.Load(bytes.Manifest, bytes.Onnx, LightCurveEncoding.Supported, source: source), source));
                    return Loaded(modelId, model, "the model registry");
                }
            }
            catch (Exception e) when (IsModelProblem(e))
            {
                reasons.Add("the registry's package cannot be used: " + AlertBroker.Redis.RedisErrors.Brief(e));
            }
        }

        foreach (var root in _directories)
        {
            foreach (var manifestPath in SafeManifests(root))
            {
                ModelManifest manifest;
                try
                {
                    manifest = ModelPackage.ParseManifest(File.ReadAllBytes(manifestPath));
                }
                catch (Exception e) when (e is IOException or ModelPackageException or System.Text.Json.JsonException or UnauthorizedAccessException)
                {
                    continue;
                }

                if (manifest.Name != name || manifest.Version != version)
                {
                    continue;
                }

                var dir = Path.GetDirectoryName(manifestPath)!;
                if (!manifest.Onnx.Sha256.StartsWith(shaPrefix, StringComparison.OrdinalIgnoreCase))
                {
                    reasons.Add($"{dir} holds {name}@{version} with SHA-256 {manifest.Onnx.Sha256[..Math.Min(12, manifest.Onnx.Sha256.Length)]}, not {shaPrefix}");
                    continue;
                }

                try
                {
                    var model = ActiveModel.Load(dir);
                    if (model.Id == modelId)
                    {
                        return Loaded(modelId, model, dir);
                    }

                    model.Dispose();
                    reasons.Add($"{dir}: the package loads as {model.Id}");
                }
                catch (Exception e) when (IsModelProblem(e))
                {
                    reasons.Add($"{dir}: {e.Message}");
                }
            }
        }

        if (_registry is null && _directories.Count == 0)
        {
            reasons.Add("no model registry and no model directory is configured");
        }
        else if (reasons.Count == 0)
        {
            reasons.Add(_registry is null
                ? $"{name}@{version} is in none of the model directories ({string.Join(", ", _directories)}) and no registry is configured"
                : $"{name}@{version} is in none of the model directories ({string.Join(", ", _directories)})");
        }

        var reason = string.Join("; ", reasons);
        Log.ModelUnavailable(_logger, modelId, reason);
        return new ModelLookup(modelId, null, null, reason, classes);
    }

    private ModelLookup Loaded(string modelId, ActiveModel model, string source)
    {
        Log.ModelLoaded(_logger, modelId, source);
        return new ModelLookup(modelId, model, source, null, model.Classes);
    }

    private static bool IsModelProblem(Exception e) =>
        e is RegistryException or ModelPackageException or OnnxRuntimeException or OnnxRuntimeNotFoundException or IOException or UnauthorizedAccessException
        or StackExchange.Redis.RedisException or TimeoutException or ArgumentException or InvalidOperationException;

    private static IEnumerable<string> SafeManifests(string root)
    {
        try
        {
            return Directory.GetFiles(root, ModelPackage.ManifestFileName, new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 4, IgnoreInaccessible = true });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}

/// <summary>The class probabilities after every step of a stored light curve, recomputed with the model that scored it.</summary>
internal static class ProbabilityHistory
{
    /// <summary>The light curve's steps (the observations the network sees, in stored order) and the probabilities after each.</summary>
    public static (Observation[] Steps, float[][] Probabilities) Compute(ActiveModel model, Observation[] observations)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(observations);

        // The worker's selection: the merged light curve is already in (MJD, source id, kind) order; the model's encoding
        // keeps its steps (detections only for a model trained on them) and fixes t₀.
        var steps = model.Encoding.SelectOrderedSteps(observations, out var referenceMjd);
        if (steps.Length == 0)
        {
            return (steps, []);
        }

        var d = model.Scorer.Dimensions;
        var x = new float[steps.Length * model.Encoding.StepFeatureCount];
        model.Encoding.EncodeSteps(steps, 0, referenceMjd, double.NaN, x);
        var probabilities = new float[steps.Length * d.Classes];
        model.Scorer.Score(
            [new ScoringRequest(x, model.Meta, ReadOnlyMemory<float>.Empty)],
            [new ScoringOutput(probabilities, new float[d.StateSize])]);
        var rows = new float[steps.Length][];
        for (var i = 0; i < steps.Length; i++)
        {
            rows[i] = probabilities.AsSpan(i * d.Classes, d.Classes).ToArray();
        }

        return (steps, rows);
    }
}
