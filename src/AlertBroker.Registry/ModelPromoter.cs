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

    /// <summary>Objects per class label in the holdout; null when the evaluator cannot tell (the class coverage check is skipped).</summary>
    IReadOnlyDictionary<string, int>? ClassCounts => null;
}

/// <summary>Why a promotion or shadow was refused.</summary>
public enum PromotionRefusal
{
    /// <summary>Not refused.</summary>
    None,

    /// <summary>A check failed (the gate, the package, the registry): exit 1.</summary>
    Check,

    /// <summary>What was asked cannot be done as asked (a survey the model does not declare, or no survey at all): a usage error, exit 2.</summary>
    Request,
}

/// <summary>How a promotion is checked and recorded.</summary>
public sealed record PromotionOptions
{
    /// <summary>Who promotes (recorded in the audit trail).</summary>
    public string By { get; init; } = Environment.UserName;

    public string? Reason { get; init; }

    /// <summary>The candidate may score at most this much below the active model's macro AUROC.</summary>
    public double MaxAurocDrop { get; init; } = 0.01;

    /// <summary>
    /// Promote even when the metric check or the shadow requirement fails, or for a survey the model does not declare (all
    /// recorded as forced). A package that does not load, or that needs metadata the survey has no source for, is never promoted.
    /// </summary>
    public bool Force { get; init; }

    /// <summary>The holdout for the metric check; without one only the load and encoding checks run.</summary>
    public IHoldoutEvaluator? Holdout { get; init; }

    /// <summary>The surveys whose pointer moves; null: every survey the model declares (<c>model.json</c> <c>surveys</c>).</summary>
    public IReadOnlyList<string>? Surveys { get; init; }

    /// <summary>Refuse unless the candidate was shadowed beside the survey's active model on at least this many alerts (0: no requirement).</summary>
    public long RequireShadowAlerts { get; init; }

    /// <summary>Refuse unless the shadow statistics show at least this top-class agreement with the active model (null: no requirement).</summary>
    public double? MinShadowAgreement { get; init; }
}

/// <summary>How a shadow is set.</summary>
public sealed record ShadowOptions
{
    public string By { get; init; } = Environment.UserName;

    public string? Reason { get; init; }

    /// <summary>The surveys to shadow; null: every survey the model declares.</summary>
    public IReadOnlyList<string>? Surveys { get; init; }

    /// <summary>Shadow a survey the model does not declare (recorded as forced).</summary>
    public bool Force { get; init; }
}

/// <summary>The outcome of a promotion (or shadow) attempt: one record per survey whose pointer moved (a promotion moves every survey asked for, or none).</summary>
public sealed record PromotionResult(bool Promoted, IReadOnlyList<string> Findings, PromotionRecord? Record)
{
    /// <summary>The audit records written, one per survey.</summary>
    public IReadOnlyList<PromotionRecord> Records { get; init; } = Record is null ? [] : [Record];

    /// <summary>The candidate was already the active model (same bytes) of every survey asked for: nothing was changed or recorded.</summary>
    public bool AlreadyActive { get; init; }

    /// <summary>Why nothing was changed, when it was refused.</summary>
    public PromotionRefusal Refusal { get; init; } = Promoted ? PromotionRefusal.None : PromotionRefusal.Check;
}

/// <summary>
/// Moves a survey's active-model pointer only after the candidate has shown it can serve: it loads in ONNX Runtime, its
/// feature encoding is one the workers implement and its graph's step-feature size is that encoding's, it produces valid
/// probabilities (and honours its lengths input and continues its state exactly), every metadata source it needs is
/// declared for the survey, on a holdout set it is not worse than the survey's active model by more than a threshold, and
/// (when asked) it was shadowed on enough alerts with enough agreement. The metric, shadow and survey-declaration checks
/// can be overridden with <see cref="PromotionOptions.Force"/>, which the audit trail records.
/// </summary>
public sealed class ModelPromoter(IModelRegistry registry)
{
    public async Task<PromotionResult> PromoteAsync(ModelRef candidate, PromotionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var findings = new List<string>();
        var (registered, surveys, refused) = await ResolveAsync(candidate, options.Surveys, options.Force, findings, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        var candidatePointer = Pointer(registered, DateTimeOffset.UtcNow);
        var actives = new Dictionary<string, ActivePointer?>(StringComparer.Ordinal);
        foreach (var survey in surveys.Keys.ToList())
        {
            var active = await registry.GetActiveAsync(survey, cancellationToken).ConfigureAwait(false);
            if (active is not null && active.Ref == candidate && string.Equals(active.Sha256, registered.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                findings.Add($"{candidate} is already the active model of {survey}");
                surveys.Remove(survey);
                continue;
            }

            actives[survey] = active;
        }

        if (surveys.Count == 0)
        {
            return new PromotionResult(false, findings, null) { AlreadyActive = true };
        }

        using var package = await TryLoadAsync(candidate, findings, cancellationToken).ConfigureAwait(false);
        if (package is null || !SmokeTest(package, findings) || !await MetadataDeclaredAsync(candidate, package.Manifest, surveys.Keys, findings, cancellationToken).ConfigureAwait(false))
        {
            return new PromotionResult(false, findings, null);
        }

        findings.Add($"loads in ONNX Runtime; encoding {package.Manifest.Encoding.Id} is supported; scores valid probabilities");
        var metrics = new Dictionary<string, Dictionary<string, double>>(StringComparer.Ordinal);
        foreach (var survey in surveys.Keys)
        {
            metrics[survey] = new Dictionary<string, double>(StringComparer.Ordinal);
        }

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

            findings.Add(string.Create(CultureInfo.InvariantCulture, $"candidate macro AUROC {candidateAuroc:F4} on {holdout.Description}"));
            var coverageOk = HoldoutCoversClasses(holdout, package.Manifest.Classes, findings);
            if (!double.IsFinite(candidateAuroc) || !coverageOk)
            {
                // NaN compares false with everything: "drop > allowed" was false, so a holdout of one class passed the gate.
                if (coverageOk)
                {
                    findings.Add($"the candidate's macro AUROC on {holdout.Description} is not a number: the holdout lacks the classes to compare (an AUROC needs objects of at least two of the model's classes)");
                }

                if (!options.Force)
                {
                    findings.Add("refused: the metric check cannot be run on this holdout: give a holdout with objects of at least two of the model's classes (use --force to override)");
                    return new PromotionResult(false, findings, null);
                }

                foreach (var survey in surveys.Keys.ToList())
                {
                    surveys[survey] = true;
                }
            }

            var activeAurocs = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var survey in surveys.Keys)
            {
                if (double.IsFinite(candidateAuroc))
                {
                    metrics[survey]["candidateMacroAuroc"] = candidateAuroc;
                }

                if (actives[survey] is not { } active)
                {
                    continue;
                }

                var key = PackageDescriptions.Identity(active);
                if (!activeAurocs.TryGetValue(key, out var activeAuroc))
                {
                    using var activePackage = await TryLoadAsync(active.Ref, [], cancellationToken).ConfigureAwait(false);
                    if (activePackage is null)
                    {
                        findings.Add($"the active model of {survey}, {active.Ref}, could not be loaded for comparison");
                        continue;
                    }

                    try
                    {
                        activeAuroc = holdout.MacroAuroc(activePackage);
                    }
                    catch (OnnxRuntimeException e)
                    {
                        findings.Add($"the active model of {survey}, {active.Ref}, failed while scoring {holdout.Description}: {e.Message}");
                        continue;
                    }

                    activeAurocs[key] = activeAuroc;
                }

                if (double.IsFinite(activeAuroc))
                {
                    metrics[survey]["activeMacroAuroc"] = activeAuroc;
                }

                if (!double.IsFinite(candidateAuroc) || !double.IsFinite(activeAuroc))
                {
                    // Only reached with --force (or when the active model alone has no AUROC): nothing to compare.
                    findings.Add(string.Create(CultureInfo.InvariantCulture, $"{survey}: active {active.Ref} macro AUROC {activeAuroc:F4}: no comparison is possible"));
                    if (!options.Force)
                    {
                        findings.Add($"refused: for {survey} the active model's macro AUROC on the holdout is not a number, so the candidate cannot be compared with it (use --force to override)");
                        return new PromotionResult(false, findings, null);
                    }

                    surveys[survey] = true;
                    continue;
                }

                var drop = activeAuroc - candidateAuroc;
                if (drop > options.MaxAurocDrop)
                {
                    surveys[survey] = true;
                }

                findings.Add(string.Create(CultureInfo.InvariantCulture, $"{survey}: active {active.Ref} macro AUROC {activeAuroc:F4}: the candidate is {(drop > 0 ? "worse" : "not worse")} by {Math.Abs(drop):F4} (allowed drop {options.MaxAurocDrop:F4})"));
                if (drop > options.MaxAurocDrop && !options.Force)
                {
                    findings.Add($"refused: for {survey} the candidate scores worse than the active model by more than the allowed drop (use --force to override)");
                    return new PromotionResult(false, findings, null);
                }
            }
        }
        else
        {
            findings.Add("no holdout given: the metric check was not run");
        }

        if (options.RequireShadowAlerts > 0 || options.MinShadowAgreement is not null)
        {
            foreach (var survey in surveys.Keys.ToList())
            {
                var ok = await ShadowRequirementMetAsync(survey, candidatePointer, actives[survey], options, metrics[survey], findings, cancellationToken).ConfigureAwait(false);
                if (!ok)
                {
                    surveys[survey] = true;
                    if (!options.Force)
                    {
                        findings.Add($"refused: the shadow requirement is not met for {survey} (use --force to override)");
                        return new PromotionResult(false, findings, null);
                    }
                }
            }
        }

        var records = new List<PromotionRecord>();
        var moves = new List<PointerMove>();
        var utc = DateTimeOffset.UtcNow;
        foreach (var (survey, forced) in surveys)
        {
            var record = new PromotionRecord
            {
                Action = "promote",
                Survey = survey,
                Utc = utc,
                From = actives[survey]?.Ref.ToString(),
                To = candidate.ToString(),
                Metrics = metrics[survey],
                Forced = forced && options.Force,
                Reason = options.Reason ?? string.Join("; ", findings),
                By = options.By,
            };
            records.Add(record);
            moves.Add(new PointerMove(survey, actives[survey], candidatePointer with { SinceUtc = utc }, record) { RequiredSources = RequiredSources(package.Manifest) });
        }

        var shadowed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var survey in surveys.Keys)
        {
            if (await registry.GetShadowAsync(survey, cancellationToken).ConfigureAwait(false) is { } shadow && shadow.Ref == candidate)
            {
                shadowed.Add(survey);
            }
        }

        // Every survey's pointer moves in one change, or none does: before, a promotion to ztf and lsst could move ztf and
        // then fail on lsst (its pointer changed meanwhile), leaving the two surveys on different models.
        try
        {
            await registry.SetActiveAsync(moves, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException e)
        {
            findings.Add("refused: " + e.Message);
            return new PromotionResult(false, findings, null);
        }

        foreach (var record in records)
        {
            var survey = record.Survey!;
            findings.Add(record.Forced ? $"{survey}: FORCED: promoted although a check failed; the audit record says so" : $"{survey}: promoted");

            // The shadowed candidate is now the active model: the registry stopped scoring it twice in the same change.
            if (shadowed.Contains(survey))
            {
                findings.Add($"{survey}: the shadow {candidate} was promoted, so shadowing stops");
            }
        }

        return new PromotionResult(true, findings, records.FirstOrDefault()) { Records = records };
    }

    /// <summary>Makes <paramref name="candidate"/> the shadow of each survey (checked as for a promotion, without the metric checks).</summary>
    public async Task<PromotionResult> ShadowAsync(ModelRef candidate, ShadowOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var findings = new List<string>();
        var (registered, surveys, refused) = await ResolveAsync(candidate, options.Surveys, options.Force, findings, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        foreach (var survey in surveys.Keys.ToList())
        {
            var active = await registry.GetActiveAsync(survey, cancellationToken).ConfigureAwait(false);
            if (active is not null && active.Ref == candidate)
            {
                findings.Add($"refused: {candidate} is the active model of {survey}; a shadow is a different model scored beside it");
                return new PromotionResult(false, findings, null);
            }
        }

        using var package = await TryLoadAsync(candidate, findings, cancellationToken).ConfigureAwait(false);
        if (package is null || !SmokeTest(package, findings) || !await MetadataDeclaredAsync(candidate, package.Manifest, surveys.Keys, findings, cancellationToken).ConfigureAwait(false))
        {
            return new PromotionResult(false, findings, null);
        }

        findings.Add($"loads in ONNX Runtime; encoding {package.Manifest.Encoding.Id} is supported; scores valid probabilities");
        var records = new List<PromotionRecord>();
        var moves = new List<ShadowMove>();
        var utc = DateTimeOffset.UtcNow;
        foreach (var (survey, forced) in surveys)
        {
            var previous = await registry.GetShadowAsync(survey, cancellationToken).ConfigureAwait(false);

            var record = new PromotionRecord
            {
                Action = "shadow",
                Survey = survey,
                Utc = utc,
                From = previous?.Ref.ToString(),
                To = candidate.ToString(),
                Forced = forced,
                Reason = options.Reason ?? string.Join("; ", findings),
                By = options.By,
            };
            records.Add(record);
            moves.Add(new ShadowMove(survey, Pointer(registered, utc), record) { CompareAndSet = true, ExpectedCurrent = previous, RequiredSources = RequiredSources(package.Manifest) });
        }

        // Every survey's shadow is set in one change, or none is, and only while each is still what was read above (as
        // promotions are): ten operators shadowing at once were each told "shadowing X" while one of them won.
        try
        {
            await registry.SetShadowAsync(moves, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException e)
        {
            findings.Add("refused: " + e.Message);
            return new PromotionResult(false, findings, null);
        }

        foreach (var (survey, forced) in surveys)
        {
            findings.Add($"{survey}: workers now also score every alert with {candidate}{(forced ? " (FORCED: the model does not declare the survey)" : string.Empty)}");
        }

        return new PromotionResult(true, findings, records.FirstOrDefault()) { Records = records };
    }

    /// <summary>Stops shadowing in <paramref name="survey"/>; null when there was no shadow.</summary>
    public async Task<PromotionRecord?> ClearShadowAsync(string survey, string by, string? reason, CancellationToken cancellationToken = default)
    {
        var current = await registry.GetShadowAsync(survey, cancellationToken).ConfigureAwait(false);
        if (current is null)
        {
            return null;
        }

        var record = new PromotionRecord { Action = "shadow-clear", Survey = survey, Utc = DateTimeOffset.UtcNow, From = current.Ref.ToString(), To = string.Empty, Reason = reason, By = by };
        await registry.SetShadowAsync([new ShadowMove(survey, null, record) { CompareAndSet = true, ExpectedCurrent = current }], cancellationToken).ConfigureAwait(false);
        return record;
    }

    public async Task<PromotionRecord> RollbackAsync(string survey, string by, string? reason, CancellationToken cancellationToken = default)
    {
        var active = await registry.GetActiveAsync(survey, cancellationToken).ConfigureAwait(false) ?? throw new RegistryException($"no model is active for {survey}");
        var previous = await registry.GetPreviousAsync(survey, cancellationToken).ConfigureAwait(false) ?? throw new RegistryException($"{survey} has no earlier model to roll back to");
        if (previous.Ref == active.Ref)
        {
            // A history entry an interrupted change of an older release left (the directory registry appended it before it
            // moved the pointer): "rolled back ztf: m@2 → m@2", exit 0, changed nothing.
            throw new RegistryException($"a rollback would restore {previous.Ref}, the active model itself, for {survey} (a history entry left by an interrupted change): nothing was rolled back; remove that entry from the survey's history to roll back further");
        }


        // As a promotion: the model rolled back to must still be one a worker can serve (its stored bytes match their hash,
        // it loads and scores). Before, a rollback to corrupted bytes reported success and every worker refused the model.
        var findings = new List<string>();
        IReadOnlyList<string> required = [];
        using (var package = await TryLoadAsync(previous.Ref, findings, cancellationToken).ConfigureAwait(false))
        {
            if (package is not null && !string.Equals(package.Manifest.Onnx.Sha256, previous.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                findings.Add($"refused: {previous.Ref} is registered now with other bytes (sha256 {package.Manifest.Onnx.Sha256}) than the pointer a rollback would restore ({previous.Sha256})");
            }
            else if (package is not null && SmokeTest(package, findings))
            {
                required = RequiredSources(package.Manifest);
                // The gate no promotion can override (a model that needs metadata only where a source supplies it) holds for
                // a rollback too: rolling back to such a model after its source was removed put a model in place that every
                // worker refuses. Only its refusal is kept; the line that says the sources are declared is not a problem.
                var checks = new List<string>();
                if (!await MetadataDeclaredAsync(previous.Ref, package.Manifest, [survey], checks, cancellationToken).ConfigureAwait(false))
                {
                    findings.AddRange(checks.Where(f => f.StartsWith("refused: ", StringComparison.Ordinal)));
                }
            }
        }

        if (findings.Count > 0)
        {
            throw new RegistryException($"cannot roll back {survey} to {previous.Ref}; {active.Ref} stays active: " + string.Join("; ", findings.Select(f => f.StartsWith("refused: ", StringComparison.Ordinal) ? f["refused: ".Length..] : f)));
        }

        var record = new PromotionRecord
        {
            Action = "rollback",
            Survey = survey,
            Utc = DateTimeOffset.UtcNow,
            From = active.Ref.ToString(),
            To = previous.Ref.ToString(),
            Reason = reason,
            By = by,
        };
        // The sources the restored model needs are checked again in the registry's atomic step (a `metadata remove` may
        // come between), and a shadow of that model is cleared in the same step: the model now active is not also scored
        // beside itself as its own shadow (until 2026-12-08 both came after the rollback, outside it).
        await registry.RollbackAsync(survey, active, record, required, cancellationToken).ConfigureAwait(false);
        return record;
    }

    /// <summary>
    /// The models of <paramref name="survey"/> (its active model and its shadow) that need <paramref name="source"/>, each as
    /// "NAME@VERSION (active)": removing that source's declaration would leave them with a source every worker refuses them
    /// without. A model whose manifest cannot be read is not counted (the pointer's own checks report it).
    /// </summary>
    public async Task<IReadOnlyList<string>> ModelsNeedingSourceAsync(string survey, string source, CancellationToken cancellationToken = default)
    {
        var pointers = await registry.GetSurveyAsync(survey, cancellationToken).ConfigureAwait(false);
        return await ModelsNeedingSourceAsync(registry, pointers.Active, pointers.Shadow, source, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What refusing to remove a source that <paramref name="needing"/> need says.</summary>
    public static string NeedingSourceMessage(IReadOnlyList<string> needing, string survey, string source) =>
        $"refused: {string.Join(" and ", needing)} needs {survey}/{source}: promote (or roll back to) a model that does not, or clear the shadow, before removing its source";

    /// <summary>Which of the two pointers' models need <paramref name="source"/>; the registries ask it inside their atomic step.</summary>
    internal static async Task<IReadOnlyList<string>> ModelsNeedingSourceAsync(IModelRegistry registry, ActivePointer? active, ActivePointer? shadow, string source, CancellationToken cancellationToken)
    {
        var needing = new List<string>();
        foreach (var (pointer, role) in new[] { (active, "active"), (shadow, "shadow") })
        {
            if (pointer is not null
                && await registry.GetManifestAsync(pointer.Ref, cancellationToken).ConfigureAwait(false) is { EffectiveRequiresMetadata: true } manifest
                && manifest.EffectiveMetadata.Any(m => m.Source == source))
            {
                needing.Add($"{pointer.Ref} ({role})");
            }
        }

        return needing;
    }

    /// <summary>
    /// The metadata sources a model needs that <paramref name="declarations"/> do not supply for <paramref name="survey"/>
    /// (empty when the model needs none, or all are declared).
    /// </summary>
    public static IReadOnlyList<string> MissingMetadataSources(ModelManifest manifest, string survey, IEnumerable<MetadataSourceDeclaration> declarations)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(declarations);
        var declared = declarations.Where(d => d.Survey == survey).Select(d => d.Source).ToHashSet(StringComparer.Ordinal);
        return [.. manifest.EffectiveMetadata.Select(m => m.Source).Distinct(StringComparer.Ordinal).Where(s => !declared.Contains(s))];
    }

    /// <summary>
    /// The registered candidate and the surveys it is asked for (each with whether it was forced); a refusal instead when it
    /// is not registered or the surveys cannot be chosen. Shared by promotion and shadowing.
    /// </summary>
    private async Task<(RegisteredModel Registered, Dictionary<string, bool> Surveys, PromotionResult? Refused)> ResolveAsync(ModelRef candidate, IReadOnlyList<string>? requested, bool force, List<string> findings, CancellationToken cancellationToken)
    {
        var registered = await registry.GetAsync(candidate, cancellationToken).ConfigureAwait(false);
        if (registered is null)
        {
            return (null!, null!, new PromotionResult(false, [$"{candidate} is not registered; push it first"], null));
        }

        var manifest = await registry.GetManifestAsync(candidate, cancellationToken).ConfigureAwait(false);
        var surveys = await ChooseSurveysAsync(candidate, manifest, requested, force, findings, cancellationToken).ConfigureAwait(false);
        return surveys is null
            ? (registered, null!, new PromotionResult(false, findings, null) { Refusal = PromotionRefusal.Request })
            : (registered, surveys, null);
    }

    // The surveys to move (value: whether a check was forced for it), or null when refused.
    private async Task<Dictionary<string, bool>?> ChooseSurveysAsync(ModelRef candidate, ModelManifest? manifest, IReadOnlyList<string>? requested, bool force, List<string> findings, CancellationToken cancellationToken)
    {
        var declared = manifest?.EffectiveSurveys ?? await PackageDescriptions.SurveysOfAsync(registry, candidate, cancellationToken).ConfigureAwait(false);
        var surveys = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var survey in requested is { Count: > 0 } ? requested : declared)
        {
            if (!RegistryNames.IsSurvey(survey))
            {
                findings.Add($"refused: '{survey}' is not a survey name (lower-case letters, digits and '-', e.g. ztf, lsst)");
                return null;
            }

            var isDeclared = declared.Contains(survey, StringComparer.Ordinal);
            if (!isDeclared && !RegistryNames.KnownSurveys.Contains(survey, StringComparer.Ordinal))
            {
                // Forced, a typo became a permanent survey with a pointer (after which rollback demanded --survey).
                findings.Add($"refused: {candidate} declares the surveys {string.Join(", ", declared)}, not {survey}, and {survey} is not a survey the workers route alerts of ({string.Join(", ", RegistryNames.KnownSurveys)}); --force cannot override this");
                return null;
            }

            if (!isDeclared && !force)
            {
                findings.Add($"refused: {candidate} declares the surveys {string.Join(", ", declared)}, not {survey} (use --force to override; the audit record says so)");
                return null;
            }

            if (isDeclared && !RegistryNames.KnownSurveys.Contains(survey, StringComparer.Ordinal))
            {
                // A survey the model declares (a typo in model.json, or one a later release may route): its pointer is kept,
                // but nothing scores with it, and the operator should hear that rather than see "promoted" alone.
                findings.Add($"warning: {survey} is not a survey the workers route alerts of ({string.Join(", ", RegistryNames.KnownSurveys)}): its pointer is kept, but no worker scores with it");
            }

            surveys[survey] = !isDeclared;
        }

        return surveys;
    }

    /// <summary>
    /// Says which of the model's classes the holdout lacks (a macro AUROC over fewer classes than the model's says less than
    /// it seems: a DES set passed a ZTF model's gate on three classes of five); false when fewer than two are present, where
    /// a macro AUROC is undefined.
    /// </summary>
    private static bool HoldoutCoversClasses(IHoldoutEvaluator holdout, IReadOnlyList<string> classes, List<string> findings)
    {
        if (holdout.ClassCounts is not { } counts)
        {
            return true;
        }

        var present = classes.Where(c => counts.GetValueOrDefault(c) > 0).ToList();
        var missing = classes.Where(c => counts.GetValueOrDefault(c) == 0).ToList();
        var foreign = counts.Where(kv => kv.Value > 0 && !classes.Contains(kv.Key, StringComparer.Ordinal)).Select(kv => kv.Key).ToList();
        if (foreign.Count > 0)
        {
            findings.Add($"warning: the holdout's classes {string.Join(", ", foreign)} are not classes of the model; those objects are left out of the AUROC");
        }

        if (present.Count < 2)
        {
            findings.Add($"the holdout has objects of {(present.Count == 0 ? "none" : "only one")} of the model's classes ({string.Join(", ", classes)}){(present.Count == 1 ? ": " + present[0] : string.Empty)}; a macro AUROC needs at least two");
            return false;
        }

        if (missing.Count > 0)
        {
            findings.Add($"warning: the holdout has no objects of {missing.Count} of the model's {classes.Count} classes ({string.Join(", ", missing)}): the macro AUROC compares the models on {string.Join(", ", present)} only");
        }

        return true;
    }

    private async Task<bool> MetadataDeclaredAsync(ModelRef candidate, ModelManifest manifest, IEnumerable<string> surveys, List<string> findings, CancellationToken cancellationToken)
    {
        if (!manifest.EffectiveRequiresMetadata)
        {
            return true;
        }

        var declarations = await registry.GetMetadataSourcesAsync(cancellationToken).ConfigureAwait(false);
        foreach (var survey in surveys)
        {
            var missing = MissingMetadataSources(manifest, survey, declarations);
            if (missing.Count > 0)
            {
                findings.Add($"refused: {candidate} needs metadata ({string.Join(", ", manifest.EffectiveMetadata.Select(m => m.Source).Distinct(StringComparer.Ordinal))}) "
                    + $"but the registry declares no source of {string.Join(", ", missing)} for {survey}: alerts do not carry it "
                    + $"(alertbroker models metadata set --survey {survey} --source {missing[0]} --csv FILE | --redis-hash KEY)");
                return false;
            }
        }

        findings.Add($"every metadata source it needs ({string.Join(", ", manifest.EffectiveMetadata.Select(m => m.Source).Distinct(StringComparer.Ordinal))}) is declared for {string.Join(", ", surveys)}");
        return true;
    }

    private async Task<bool> ShadowRequirementMetAsync(string survey, ActivePointer candidate, ActivePointer? active, PromotionOptions options, Dictionary<string, double> metrics, List<string> findings, CancellationToken cancellationToken)
    {
        if (active is null)
        {
            findings.Add($"{survey}: no active model, so no shadow statistics to check");
            return false;
        }

        var stats = await registry.GetShadowStatisticsAsync(ShadowPair.Of(survey, candidate, active), cancellationToken).ConfigureAwait(false);
        var alerts = stats?.Alerts ?? 0;
        metrics["shadowAlerts"] = alerts;
        var ok = alerts >= options.RequireShadowAlerts && alerts > 0;
        if (alerts == 0)
        {
            // "shadowed on 0 alerts (required 0)" and then "refused" read as a contradiction: say what is missing.
            var asked = options.RequireShadowAlerts > 0
                ? string.Create(CultureInfo.InvariantCulture, $"--require-shadow asks for {options.RequireShadowAlerts:N0}")
                : string.Create(CultureInfo.InvariantCulture, $"--min-agreement {options.MinShadowAgreement:F4} needs shadowed alerts to measure agreement on");
            findings.Add($"{survey}: no shadow statistics: {candidate.Ref} has not been scored beside the active model {active.Ref} on any alert ({asked}; "
                + $"alertbroker models shadow {candidate.Ref} --survey {survey}, then let the workers score alerts)");
            return false;
        }

        var text = string.Create(CultureInfo.InvariantCulture, $"{survey}: shadowed beside {active.Ref} on {alerts:N0} alerts (required {options.RequireShadowAlerts:N0})");
        if (stats is not null && alerts > 0)
        {
            metrics["shadowAgreement"] = stats.Agreement;
            text += string.Create(CultureInfo.InvariantCulture, $", top-class agreement {stats.Agreement:F4}");
            if (options.MinShadowAgreement is { } min)
            {
                text += string.Create(CultureInfo.InvariantCulture, $" (required {min:F4})");
                ok &= stats.Agreement >= min;
            }

            if (stats.Labelled > 0)
            {
                metrics["shadowCandidateMacroAuroc"] = stats.CandidateMacroAuroc;
                metrics["shadowActiveMacroAuroc"] = stats.ActiveMacroAuroc;
                text += string.Create(CultureInfo.InvariantCulture, $"; on {stats.Labelled:N0} labelled alerts macro AUROC candidate {stats.CandidateMacroAuroc:F4}, active {stats.ActiveMacroAuroc:F4}");
            }
        }

        findings.Add(text);
        return ok;
    }

    /// <summary>The sources a model cannot be served without (none when its metadata is optional).</summary>
    private static IReadOnlyList<string> RequiredSources(ModelManifest manifest) =>
        manifest.EffectiveRequiresMetadata ? [.. manifest.EffectiveMetadata.Select(m => m.Source).Distinct(StringComparer.Ordinal)] : [];

    private static ActivePointer Pointer(RegisteredModel model, DateTimeOffset since) =>
        new() { Name = model.Name, Version = model.Version, Sha256 = model.Sha256, SinceUtc = since };

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
            // Registry messages often start with the reference already ("m@1: stored model.onnx has …"): say it once.
            findings.Add(e.Message.StartsWith(model + ":", StringComparison.Ordinal) ? "refused: " + e.Message : $"refused: {model}: {e.Message}");
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
