using System.Globalization;
using System.Text;
using AlertBroker.Simulation.Populations;
using AlertBroker.Simulation.Surveys;

namespace AlertBroker.Simulation.Validation;

/// <summary>Settings of <see cref="SimulatorTuner"/>.</summary>
public sealed record TuningOptions
{
    /// <summary>Features of the real light curves the simulator is tuned against (the tuning part only).</summary>
    public required IReadOnlyList<LightCurveFeatures> Real { get; init; }

    /// <summary>Starting class models (the priors), in the order of the real set's classes.</summary>
    public IReadOnlyList<TransientClassModel> Classes { get; init; } = LiteraturePriors.Classes;

    public SurveyModel Survey { get; init; } = LiteraturePriors.Ztf;

    public IReadOnlyList<TunableParameter> Parameters { get; init; } = LiteraturePriors.Tunable;

    public SpectroscopicSelection Selection { get; init; } = SpectroscopicSelection.Bts;

    /// <summary>Simulated light curves per class and evaluation (after the selection).</summary>
    public int PerClass { get; init; } = 1500;

    /// <summary>One seed for every evaluation (common random numbers), so the objective is a deterministic function of the parameters.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Coordinate-descent rounds at most.</summary>
    public int Rounds { get; init; } = 8;

    /// <summary>Steps are halved after a round without improvement, at most this many times.</summary>
    public int Halvings { get; init; } = 2;
}

/// <summary>One evaluated change of one parameter.</summary>
public sealed record TuningStep(int Round, string Parameter, double From, double To, double ObjectiveBefore, double ObjectiveAfter, bool Accepted, IReadOnlyDictionary<string, double> KsBefore, IReadOnlyDictionary<string, double> KsAfter);

/// <summary>The result: final models, every step tried, and the comparisons before and after.</summary>
public sealed record TuningResult(
    IReadOnlyList<TransientClassModel> Classes,
    SurveyModel Survey,
    IReadOnlyList<TuningStep> Steps,
    double ObjectiveBefore,
    double ObjectiveAfter,
    ComparisonReport Before,
    ComparisonReport After,
    IReadOnlyDictionary<string, (double Prior, double Tuned)> Values);

/// <summary>
/// Tunes simulator parameters against real light curves by coordinate descent on a penalised objective:
/// Σ over classes and quantities of √n_c · D (n_c real objects of the class, D the two-sample Kolmogorov–Smirnov
/// distance of a quantity of <see cref="LightCurveFeatures"/>), plus Σ over parameters of ((θ − θ_prior)/σ_prior)².
/// √n · D is the KS statistic's own scale (order 1 when the distributions agree), so a class with a handful of real
/// objects cannot pull its parameters far from the literature, while one with hundreds can. Each round visits every
/// parameter: one step up, and while the objective falls further steps that way, else the same down; a change is kept
/// only if the objective falls. A round without a change halves the steps. Every evaluation simulates with the same seed, so the objective is deterministic and reruns give the
/// same result.
/// </summary>
public sealed class SimulatorTuner
{
    private readonly TuningOptions _options;
    private readonly Dictionary<string, List<LightCurveFeatures>> _real = new(StringComparer.Ordinal);

    public SimulatorTuner(TuningOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        foreach (var f in options.Real)
        {
            if (!_real.TryGetValue(f.ClassName, out var list))
            {
                _real[f.ClassName] = list = [];
            }

            list.Add(f);
        }
    }

    public TuningResult Run(Action<string> log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        var classes = _options.Classes.ToArray();
        var survey = _options.Survey;
        var steps = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in _options.Parameters)
        {
            steps[p.Key] = p.Step;
        }

        var simulated = new List<LightCurveFeatures>[classes.Length];
        var data = new double[classes.Length];
        for (var c = 0; c < classes.Length; c++)
        {
            simulated[c] = Simulate(classes[c], survey, c);
            data[c] = DataTerm(classes[c].Name, simulated[c]);
        }

        var before = new ComparisonReport(_options.Real, simulated.SelectMany(s => s), classes.Select(c => c.Name).ToList());
        double Penalty(TransientClassModel[] cs, SurveyModel s)
        {
            var total = 0.0;
            foreach (var p in _options.Parameters)
            {
                total += p.Target == "survey" ? p.Penalty(p.Get(s)) : p.Penalty(p.Get(cs[IndexOf(cs, p.Target)]));
            }

            return total;
        }

        var objective = data.Sum() + Penalty(classes, survey);
        var start = objective;
        log(string.Create(CultureInfo.InvariantCulture, $"start: objective {objective:0.000} (data {data.Sum():0.000}, prior {objective - data.Sum():0.000})"));
        var trail = new List<TuningStep>();
        var halvings = 0;
        for (var round = 1; round <= _options.Rounds; round++)
        {
            var improved = false;
            foreach (var p in _options.Parameters)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var tried = 0;
                foreach (var direction in new[] { +1, -1 })
                {
                    // Line search: keep stepping the same way while the objective falls.
                    var moved = false;
                    while (tried++ < 40)
                    {
                        var isSurvey = p.Target == "survey";
                        var ci = isSurvey ? -1 : IndexOf(classes, p.Target);
                        var current = isSurvey ? p.Get(survey) : p.Get(classes[ci]);
                        var candidate = p.Move(current, steps[p.Key], direction);
                        if (candidate == current)
                        {
                            break;
                        }

                        var newClasses = (TransientClassModel[])classes.Clone();
                        var newSurvey = survey;
                        var newSimulated = (List<LightCurveFeatures>[])simulated.Clone();
                        var newData = (double[])data.Clone();
                        if (isSurvey)
                        {
                            newSurvey = p.Set(survey, candidate);
                            for (var c = 0; c < classes.Length; c++)
                            {
                                newSimulated[c] = Simulate(newClasses[c], newSurvey, c);
                                newData[c] = DataTerm(newClasses[c].Name, newSimulated[c]);
                            }
                        }
                        else
                        {
                            newClasses[ci] = p.Set(classes[ci], candidate);
                            newSimulated[ci] = Simulate(newClasses[ci], survey, ci);
                            newData[ci] = DataTerm(newClasses[ci].Name, newSimulated[ci]);
                        }

                        var newObjective = newData.Sum() + Penalty(newClasses, newSurvey);
                        var accepted = newObjective < objective - 1e-9;
                        var scope = isSurvey ? null : classes[ci].Name;
                        trail.Add(new TuningStep(round, p.Key, current, candidate, objective, newObjective, accepted, Ks(scope, simulated), Ks(scope, newSimulated)));
                        if (accepted)
                        {
                            log(string.Create(CultureInfo.InvariantCulture, $"round {round}: {p.Key} {current:0.####} → {candidate:0.####}: objective {objective:0.000} → {newObjective:0.000}"));
                            classes = newClasses;
                            survey = newSurvey;
                            simulated = newSimulated;
                            data = newData;
                            objective = newObjective;
                            improved = true;
                            moved = true;
                            continue;
                        }

                        break;
                    }

                    if (moved)
                    {
                        break;
                    }
                }
            }

            if (!improved)
            {
                if (halvings >= _options.Halvings)
                {
                    log($"round {round}: no change at the smallest steps; done");
                    break;
                }

                halvings++;
                foreach (var key in steps.Keys.ToList())
                {
                    steps[key] /= 2;
                }

                log($"round {round}: no change; steps halved");
            }
        }

        var after = new ComparisonReport(_options.Real, simulated.SelectMany(s => s), classes.Select(c => c.Name).ToList());
        var values = new Dictionary<string, (double, double)>(StringComparer.Ordinal);
        foreach (var p in _options.Parameters)
        {
            values[p.Key] = (p.Prior, p.Target == "survey" ? p.Get(survey) : p.Get(classes[IndexOf(classes, p.Target)]));
        }

        log(string.Create(CultureInfo.InvariantCulture, $"end: objective {start:0.000} → {objective:0.000}"));
        return new TuningResult(classes, survey, trail, start, objective, before, after, values);
    }

    /// <summary>Σ over quantities of √n_real · D for one class (quantities without a finite D are skipped).</summary>
    public double DataTerm(string className, IReadOnlyList<LightCurveFeatures> simulated)
    {
        ArgumentNullException.ThrowIfNull(simulated);
        if (!_real.TryGetValue(className, out var real) || real.Count == 0)
        {
            return 0;
        }

        var total = 0.0;
        for (var q = 0; q < LightCurveFeatures.Quantities.Count; q++)
        {
            var (d, _) = Statistics.KolmogorovSmirnov(real.Select(f => f.Get(q)).ToList(), simulated.Select(f => f.Get(q)).ToList());
            if (double.IsFinite(d))
            {
                var n = real.Count(f => double.IsFinite(f.Get(q)));
                total += Math.Sqrt(n) * d;
            }
        }

        return total;
    }

    /// <summary>Writes <c>tuning.md</c> (parameters prior → tuned, accepted steps, KS before/after) into <paramref name="directory"/>.</summary>
    public static string WriteReport(TuningResult result, string directory, string preamble, ComparisonReport? reference = null, string? referenceName = null, string startName = "priors")
    {
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(directory);
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.Append("# Simulator tuning\n\n").Append(preamble).Append("\n\n");
        md.Append(inv, $"Objective (Σ √n·KS over classes and quantities + Σ prior penalties): {result.ObjectiveBefore:0.000} at the {startName} → {result.ObjectiveAfter:0.000} tuned.\n\n");
        md.Append("## Parameters\n\n| parameter | prior | tuned |\n| --- | ---: | ---: |\n");
        foreach (var (key, (prior, tuned)) in result.Values)
        {
            md.Append(inv, $"| {key} | {prior:0.####} | {tuned:0.####} |\n");
        }

        md.Append("\n## Accepted steps\n\n| round | parameter | from | to | objective before | after | class KS (quantity: before → after, changes ≥ 0.01) |\n| ---: | --- | ---: | ---: | ---: | ---: | --- |\n");
        foreach (var s in result.Steps.Where(s => s.Accepted))
        {
            var changes = string.Join("; ", s.KsAfter.Where(kv => s.KsBefore.TryGetValue(kv.Key, out var b) && Math.Abs(b - kv.Value) >= 0.01).Select(kv => string.Create(inv, $"{kv.Key} {s.KsBefore[kv.Key]:0.00}→{kv.Value:0.00}")));
            md.Append(inv, $"| {s.Round} | {s.Parameter} | {s.From:0.####} | {s.To:0.####} | {s.ObjectiveBefore:0.000} | {s.ObjectiveAfter:0.000} | {changes} |\n");
        }

        md.Append(inv, $"\n{result.Steps.Count} steps tried, {result.Steps.Count(s => s.Accepted)} accepted (every step is in `tuning-steps.csv`).\n\n");
        md.Append("## KS distances on the tuning part, before and after\n\n");
        md.Append(reference is null ? $"| class | quantity | n real | median real | KS {startName} | KS tuned | median sim, {startName} | median sim, tuned |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
            : $"| class | quantity | n real | median real | KS {startName} | KS tuned | KS {referenceName} | median sim, {startName} | median sim, tuned | median sim, {referenceName} |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (var i = 0; i < result.Before.Rows.Count; i++)
        {
            var b = result.Before.Rows[i];
            var a = result.After.Rows[i];
            if (reference is null)
            {
                md.Append(inv, $"| {b.ClassName} | {b.Quantity} | {b.RealCount} | {b.RealMedian:0.###} | {b.KsDistance:0.000} | {a.KsDistance:0.000} | {b.SimulatedMedian:0.###} | {a.SimulatedMedian:0.###} |\n");
            }
            else
            {
                var r = reference.Rows[i];
                md.Append(inv, $"| {b.ClassName} | {b.Quantity} | {b.RealCount} | {b.RealMedian:0.###} | {b.KsDistance:0.000} | {a.KsDistance:0.000} | {r.KsDistance:0.000} | {b.SimulatedMedian:0.###} | {a.SimulatedMedian:0.###} | {r.SimulatedMedian:0.###} |\n");
            }
        }

        var path = Path.Combine(directory, "tuning.md");
        File.WriteAllText(path, md.ToString());
        var csv = new StringBuilder("round,parameter,from,to,objective_before,objective_after,accepted\n");
        foreach (var s in result.Steps)
        {
            csv.Append(inv, $"{s.Round},{s.Parameter},{s.From:R},{s.To:R},{s.ObjectiveBefore:0.######},{s.ObjectiveAfter:0.######},{(s.Accepted ? 1 : 0)}\n");
        }

        File.WriteAllText(Path.Combine(directory, "tuning-steps.csv"), csv.ToString());
        return path;
    }

    private IReadOnlyDictionary<string, double> Ks(string? className, List<LightCurveFeatures>[] simulated)
    {
        var result = new SortedDictionary<string, double>(StringComparer.Ordinal);
        for (var c = 0; c < simulated.Length; c++)
        {
            var name = _options.Classes[c].Name;
            if ((className is not null && name != className) || !_real.TryGetValue(name, out var real))
            {
                continue;
            }

            for (var q = 0; q < LightCurveFeatures.Quantities.Count; q++)
            {
                var (d, _) = Statistics.KolmogorovSmirnov(real.Select(f => f.Get(q)).ToList(), simulated[c].Select(f => f.Get(q)).ToList());
                result[(className is null ? name + " " : string.Empty) + LightCurveFeatures.Quantities[q]] = Math.Round(d, 4);
            }
        }

        return result;
    }

    private List<LightCurveFeatures> Simulate(TransientClassModel model, SurveyModel survey, int classIndex)
    {
        var options = new SimulationOptions
        {
            Survey = survey,
            Seed = _options.Seed + (1000 * classIndex),
            Classes = [model],
            ClassMix = ClassMixKind.Equal,
            Selection = _options.Selection,
        };
        var list = new List<LightCurveFeatures>(_options.PerClass);
        foreach (var curve in new LightCurveSimulator(options).Simulate(_options.PerClass))
        {
            list.Add(LightCurveFeatures.From(curve));
        }

        return list;
    }

    private static int IndexOf(TransientClassModel[] classes, string name)
    {
        for (var i = 0; i < classes.Length; i++)
        {
            if (classes[i].Name == name)
            {
                return i;
            }
        }

        throw new ArgumentException($"no class '{name}' among the tuned classes");
    }
}
