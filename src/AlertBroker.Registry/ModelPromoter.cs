using System.Globalization;
using AlertBroker.Model.Features;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Registry;

/// <summary>Scores a model on a labelled holdout set (the trainer's evaluation supplies it).</summary>
public interface IHoldoutEvaluator
{
    /// <summary>What the holdout is, for the audit record.</summary>
    string Description { get; }

    /// <summary>Macro one-vs-rest AUROC of <paramref name="package"/> on the holdout.</summary>
    double MacroAuroc(ModelPackage package);
}

/// <summary>How a promotion is checked and recorded.</summary>
public sealed record PromotionOptions
{
    /// <summary>Who promotes (recorded in the audit trail).</summary>
    public string By { get; init; } = Environment.UserName;

    public string? Reason { get; init; }

    /// <summary>The candidate may score at most this much below the active model's macro AUROC.</summary>
    public double MaxAurocDrop { get; init; } = 0.01;

    /// <summary>Promote even when the metric check fails (recorded as forced). A package that does not load is never promoted.</summary>
    public bool Force { get; init; }

    /// <summary>The holdout for the metric check; without one only the load and encoding checks run.</summary>
    public IHoldoutEvaluator? Holdout { get; init; }
}

/// <summary>The outcome of a promotion attempt.</summary>
public sealed record PromotionResult(bool Promoted, IReadOnlyList<string> Findings, PromotionRecord? Record)
{
    /// <summary>The candidate was already the active model (same bytes): nothing was changed or recorded.</summary>
    public bool AlreadyActive { get; init; }
}

/// <summary>
/// Moves the active-model pointer only after the candidate has shown it can serve: it loads in ONNX Runtime, its
/// feature encoding is one the workers implement and its graph's step-feature size is that encoding's, it produces valid
/// probabilities (and honours its lengths input and continues its state exactly), and on a holdout set it is not
/// worse than the active model by more than a threshold (unless forced, which the audit trail records).
/// </summary>
public sealed class ModelPromoter(IModelRegistry registry)
{
    public async Task<PromotionResult> PromoteAsync(ModelRef candidate, PromotionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var findings = new List<string>();
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        var registered = await registry.GetAsync(candidate, cancellationToken).ConfigureAwait(false);
        if (registered is null)
        {
            return new PromotionResult(false, [$"{candidate} is not registered; push it first"], null);
        }

        var active = await registry.GetActiveAsync(cancellationToken).ConfigureAwait(false);
        if (active is not null && active.Ref == candidate && string.Equals(active.Sha256, registered.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            return new PromotionResult(false, [$"{candidate} is already the active model"], null) { AlreadyActive = true };
        }

        using var package = await TryLoadAsync(candidate, findings, cancellationToken).ConfigureAwait(false);
        if (package is null)
        {
            return new PromotionResult(false, findings, null);
        }

        if (!SmokeTest(package, findings))
        {
            return new PromotionResult(false, findings, null);
        }

        findings.Add($"loads in ONNX Runtime; encoding {package.Manifest.Encoding.Id} is supported; scores valid probabilities");
        var metricFailed = false;
        if (options.Holdout is { } holdout)
        {
            double candidateAuroc;
            try
            {
                candidateAuroc = holdout.MacroAuroc(package);
            }
            catch (OnnxRuntimeException e)
            {
                findings.Add($"refused: the candidate failed while scoring {holdout.Description}: {e.Message}");
                return new PromotionResult(false, findings, null);
            }

            metrics["candidateMacroAuroc"] = candidateAuroc;
            findings.Add(string.Create(CultureInfo.InvariantCulture, $"candidate macro AUROC {candidateAuroc:F4} on {holdout.Description}"));
            if (active is not null)
            {
                using var activePackage = await TryLoadAsync(active.Ref, [], cancellationToken).ConfigureAwait(false);
                if (activePackage is not null)
                {
                    var activeAuroc = holdout.MacroAuroc(activePackage);
                    metrics["activeMacroAuroc"] = activeAuroc;
                    var drop = activeAuroc - candidateAuroc;
                    metricFailed = drop > options.MaxAurocDrop;
                    findings.Add(string.Create(CultureInfo.InvariantCulture, $"active {active.Ref} macro AUROC {activeAuroc:F4}: the candidate is {(drop > 0 ? "worse" : "not worse")} by {Math.Abs(drop):F4} (allowed drop {options.MaxAurocDrop:F4})"));
                }
                else
                {
                    findings.Add($"the active model {active.Ref} could not be loaded for comparison");
                }
            }
        }
        else
        {
            findings.Add("no holdout given: the metric check was not run");
        }

        if (metricFailed && !options.Force)
        {
            findings.Add("refused: the candidate scores worse than the active model by more than the allowed drop (use --force to override)");
            return new PromotionResult(false, findings, null);
        }

        var record = new PromotionRecord
        {
            Action = "promote",
            Utc = DateTimeOffset.UtcNow,
            From = active?.Ref.ToString(),
            To = candidate.ToString(),
            Metrics = metrics,
            Forced = metricFailed && options.Force,
            Reason = options.Reason ?? string.Join("; ", findings),
            By = options.By,
        };
        var next = new ActivePointer { Name = candidate.Name, Version = candidate.Version, Sha256 = registered.Sha256, SinceUtc = record.Utc };
        await registry.SetActiveAsync(active, next, record, cancellationToken).ConfigureAwait(false);
        if (record.Forced)
        {
            findings.Add("FORCED: promoted although the metric check failed; the audit record says so");
        }

        return new PromotionResult(true, findings, record);
    }

    public async Task<PromotionRecord> RollbackAsync(string by, string? reason, CancellationToken cancellationToken = default)
    {
        var active = await registry.GetActiveAsync(cancellationToken).ConfigureAwait(false) ?? throw new RegistryException("no model is active");
        var previous = await registry.GetPreviousAsync(cancellationToken).ConfigureAwait(false) ?? throw new RegistryException("there is no earlier model to roll back to");
        var record = new PromotionRecord
        {
            Action = "rollback",
            Utc = DateTimeOffset.UtcNow,
            From = active.Ref.ToString(),
            To = previous.Ref.ToString(),
            Reason = reason,
            By = by,
        };
        await registry.RollbackAsync(active, record, cancellationToken).ConfigureAwait(false);
        return record;
    }

    private async Task<ModelPackage?> TryLoadAsync(ModelRef model, List<string> findings, CancellationToken cancellationToken)
    {
        try
        {
            var bytes = await registry.GetPackageAsync(model, cancellationToken).ConfigureAwait(false);
            return ModelPackage.Load(bytes.Manifest, bytes.Onnx, StepEncodings.Ids, new OnnxSessionOptions(), model.ToString());
        }
        catch (ModelPackageException e)
        {
            findings.Add($"refused: {model} is not a valid package: " + string.Join("; ", e.Problems));
        }
        catch (Exception e) when (e is RegistryException or OnnxRuntimeException)
        {
            findings.Add($"refused: {model}: {e.Message}");
        }

        return null;
    }

    /// <summary>
    /// The packager's smoke batch (<see cref="ModelPackager.SmokeTest"/>): light curves of 1, 3 and 6 steps encoded with the
    /// model's encoding must give finite probabilities that sum to one, a padded batch must equal each row alone (a graph
    /// that ignores its lengths input fails), and a recurrent state must continue exactly.
    /// </summary>
    private static bool SmokeTest(ModelPackage package, List<string> findings)
    {
        List<string> problems;
        try
        {
            problems = ModelPackager.SmokeTest(package, StepEncodings.Get(package.Manifest.Encoding.Id));
        }
        catch (OnnxRuntimeException e)
        {
            findings.Add($"refused: the model loads but fails to run: {e.Message}");
            return false;
        }

        foreach (var problem in problems)
        {
            findings.Add("refused: " + problem);
        }

        return problems.Count == 0;
    }
}
