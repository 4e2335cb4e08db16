using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using AlertBroker.Model.Network;
using AlertBroker.Training.Data;
using AlertBroker.Training.Evaluation;

namespace AlertBroker.Training.Training;

/// <summary>Settings of one training run.</summary>
public sealed record TrainingOptions
{
    public int MaxEpochs { get; init; } = 50;

    public int BatchSize { get; init; } = 128;

    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Epochs without a better validation loss before stopping (early stopping); 0 disables it.</summary>
    public int Patience { get; init; } = 5;

    /// <summary>Seed of the shuffling; weights come seeded from the caller.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Global gradient-norm clip (0 = none).</summary>
    public float ClipNorm { get; init; } = 5f;

    /// <summary>Which layers train; the rest stay bit-identical.</summary>
    public TrainableLayers Trainable { get; init; } = TrainableLayers.All;

    /// <summary>Threads (batch shards); the result does not depend on the machine's core count, only on this.</summary>
    public int Threads { get; init; } = Math.Clamp(Environment.ProcessorCount, 1, 2);

    /// <summary>Weight each class by N / N_c (the architecture's weighted cross-entropy); false = unweighted.</summary>
    public bool WeightClasses { get; init; } = true;

    /// <summary>Return the weights of the epoch with the lowest validation loss (true) or the last epoch's (false).</summary>
    public bool RestoreBest { get; init; } = true;

    /// <summary>When set, the latest and best weights are written here after every epoch.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Which steps carry the loss and with what weight (see <see cref="Training.StepLoss"/>).</summary>
    public StepLoss StepLoss { get; init; } = StepLoss.AllSteps;

    /// <summary>What early stopping and the restored "best" epoch are judged by.</summary>
    public SelectionMetric Selection { get; init; } = SelectionMetric.Loss;

    /// <summary>
    /// Class weights w_c = (N / N_c)^power when <see cref="WeightClasses"/>: 1 (the default) is N/N_c, 0.5 its square
    /// root (rare classes count more than their numbers, less than equally), 0 none.
    /// </summary>
    public double ClassWeightPower { get; init; } = 1;

    /// <summary>
    /// L2-SP (Li, Grandvalet and Davoine 2018): α/2 · Σ (θ − θ₀)² over the trainable parameters added to the loss, θ₀ the
    /// starting weights (the base model when fine-tuning), so fine-tuning on few objects stays near what the base learnt.
    /// 0 = off.
    /// </summary>
    public float L2SpAlpha { get; init; }

    /// <summary>Learning-rate multiplier of the GRU layers (the head keeps <see cref="LearningRate"/>); 1 = one rate for all.</summary>
    public float GruLearningRateScale { get; init; } = 1;

    /// <summary>Light curves from another set mixed into every epoch (null = none).</summary>
    public ReplayOptions? Replay { get; init; }

    /// <summary>Random changes to the training light curves, drawn afresh every epoch (null = none).</summary>
    public AugmentationOptions? Augmentation { get; init; }

    /// <summary>
    /// Distillation: the weight α in [0, 1] of the soft targets the training set carries (<see cref="EncodedDataset.WithSoftTargets"/>,
    /// <see cref="Distillation"/>); each step's target is (1 − α)·its label + α·the teacher's probabilities. 0 = off.
    /// Needs soft targets on the training set and no replay or augmentation (which change the steps the targets are for).
    /// </summary>
    public float DistillationWeight { get; init; }
}

/// <summary>
/// Which steps of a light curve carry the training loss. The network is causal, so the probabilities after step t
/// are those of the light curve truncated after t: a loss on every step trains every truncation at once.
/// </summary>
public enum StepLoss
{
    /// <summary>Every valid step weighs 1 (RAPID-style per-step loss); the batch loss is divided by its valid steps, so long light curves weigh more.</summary>
    AllSteps,

    /// <summary>Every valid step weighs 1/length: per-step loss in which each light curve weighs 1; divided by the objects in the batch.</summary>
    PerObject,

    /// <summary>Only the last step of each light curve (what Muthukrishna &amp; Gupta's code trains: a GRU returning its final state); divided by the objects.</summary>
    LastStep,

    /// <summary>
    /// The evaluation's checkpoints: 1/9 on each step that is current at 0, 2, 5, 10, 15, 20, 30, 50 days after the
    /// first detection and 1/9 on the last step (a step current at several checkpoints gets several ninths); each light
    /// curve weighs 1, divided by the objects. The loss weights time as <see cref="Evaluation.EarlyCurve.MeanMacroAuroc"/> does.
    /// </summary>
    Checkpoints,
}

/// <summary>The validation figure early stopping and the restored epoch go by.</summary>
public enum SelectionMetric
{
    /// <summary>Lowest validation loss (the loss of <see cref="TrainingOptions.StepLoss"/>).</summary>
    Loss,

    /// <summary>Highest validation macro AUROC on the whole light curves.</summary>
    Auroc,

    /// <summary>Highest mean of the validation macro AUROC at 0, 2, 5, 10, 15, 20, 30, 50 days after first detection and on the whole light curve.</summary>
    EarlyAuroc,
}

/// <summary>One epoch of a run. <see cref="ValidationEarlyAuroc"/>: mean macro AUROC over the early-classification days and the whole light curve.</summary>
public sealed record EpochRecord(int Epoch, double TrainLoss, double ValidationLoss, double ValidationAccuracy, double ValidationMacroAuroc, double Seconds, double ValidationEarlyAuroc = double.NaN);

/// <summary>The outcome: the best weights (lowest validation loss; the last when there is no validation set) and the history.</summary>
/// <summary>
/// Training diverged: a loss or a weight stopped being a finite number (a learning rate far too high), so no epoch from
/// then on is a network. Until 2026-12-07 a NaN validation loss was read as "no validation part" and the epoch's
/// training loss, measured before the weights blew up, chose it as the best: a package of NaN weights was exported, exit
/// 0, with a "macro AUROC" computed from NaN probabilities, and every other command then refused it.
/// </summary>
public sealed class TrainingDivergedException(int epoch, double trainLoss, double validationLoss, float learningRate)
    : Exception(string.Create(CultureInfo.InvariantCulture, $"training diverged at epoch {epoch} (training loss {trainLoss}, validation loss {validationLoss}; the weights are no longer finite numbers): lower the learning rate (--lr, now {learningRate}) or --gru-lr-scale"))
{
    /// <summary>The epoch (from 1) at whose end a loss or a weight was not finite.</summary>
    public int Epoch { get; } = epoch;
}

public sealed record TrainingResult(GruClassifierWeights Weights, IReadOnlyList<EpochRecord> History, int BestEpoch, bool StoppedEarly, IReadOnlyList<float> ClassWeights);

/// <summary>Receives progress; called on the training thread.</summary>
public interface ITrainingProgress
{
    void OnBatch(int epoch, int batch, int batches, double loss);

    void OnEpoch(EpochRecord record);
}

/// <summary>
/// Mini-batch training of the GRU classifier: weighted categorical cross-entropy over the valid steps (weighted by
/// <see cref="TrainingOptions.StepLoss"/>), Adam, global norm clipping, early stopping on a validation figure
/// (<see cref="TrainingOptions.Selection"/>, by default the loss) with the best weights restored. Each batch is split into
/// <see cref="TrainingOptions.Threads"/> contiguous shards run in parallel with their own gradient buffers, which are
/// then summed in shard order — the same seed and thread count give bit-identical weights.
/// </summary>
public static class GruTrainer
{
    public static TrainingResult Train(
        GruClassifierWeights initial,
        EncodedDataset train,
        EncodedDataset? validation,
        TrainingOptions options,
        ITrainingProgress? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        if (train.Count == 0)
        {
            throw new ArgumentException("The training set is empty.", nameof(train));
        }

        var config = initial.Config;
        if (config.Classes != train.Classes.Count || config.MetaFeatures != train.MetaFeatures)
        {
            throw new ArgumentException($"The network ({config.Classes} classes, {config.MetaFeatures} metadata features) does not fit the data ({train.Classes.Count} classes, {train.MetaFeatures}).", nameof(train));
        }

        CheckStepFeatures(config, train, nameof(train));
        if (validation is not null)
        {
            CheckStepFeatures(config, validation, nameof(validation));
        }

        if (options.Replay is { } replay)
        {
            CheckStepFeatures(config, replay.Pool, nameof(options));
        }

        if (options.DistillationWeight != 0)
        {
            if (!(options.DistillationWeight is > 0 and <= 1))
            {
                throw new ArgumentException($"The distillation weight must be in [0, 1], not {options.DistillationWeight}.", nameof(options));
            }

            if (!train.HasSoftTargets)
            {
                throw new ArgumentException("Distillation needs soft targets on the training set.", nameof(train));
            }

            if (options.Replay is not null || options.Augmentation is { IsActive: true })
            {
                throw new ArgumentException("Distillation cannot be combined with replay or augmentation: the teacher's targets are for the light curves as they are.", nameof(options));
            }
        }

        var weights = initial.Clone();
        var anchor = options.L2SpAlpha > 0 ? initial.Clone() : null;
        var net = new NetworkView(weights);
        var classWeights = ClassWeights(train, options.WeightClasses ? options.ClassWeightPower : 0);
        var composer = options.Replay is not null || options.Augmentation is { IsActive: true }
            ? new EpochComposer(train, classWeights, options.Replay, options.Augmentation, options.Seed)
            : null;

        // With a composer the class weights travel as object weights; the loss then runs with unit class weights.
        var lossWeights = classWeights;
        if (composer is not null)
        {
            lossWeights = new float[classWeights.Length];
            Array.Fill(lossWeights, 1f);
        }

        var threads = Math.Max(1, options.Threads);
        var workspaces = new BackpropWorkspace[threads];
        var grads = new GruClassifierWeights[threads];
        for (var i = 0; i < threads; i++)
        {
            workspaces[i] = new BackpropWorkspace(config);
            grads[i] = new GruClassifierWeights(config);
        }

        var adam = new AdamOptimizer(weights, options.Trainable, options.LearningRate, options.GruLearningRateScale);
        var random = new SplitMix(options.Seed);
        var order = new int[train.Count];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        var epochData = train;

        var history = new List<EpochRecord>();
        var best = double.PositiveInfinity;
        var bestEpoch = 0;
        GruClassifierWeights? bestWeights = null;
        var stale = 0;
        var stoppedEarly = false;
        var losses = new double[threads];
        for (var epoch = 1; epoch <= options.MaxEpochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            if (composer is not null)
            {
                epochData = composer.Next();
                if (order.Length != epochData.Count)
                {
                    order = new int[epochData.Count];
                }

                for (var i = 0; i < order.Length; i++)
                {
                    order[i] = i;
                }
            }

            var batches = (epochData.Count + options.BatchSize - 1) / options.BatchSize;
            random.Shuffle(order);
            double epochLoss = 0;
            double epochSteps = 0;
            for (var bi = 0; bi < batches; bi++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var start = bi * options.BatchSize;
                var size = Math.Min(options.BatchSize, order.Length - start);
                var batch = order.AsSpan(start, size);
                double steps = 0;
                foreach (var idx in batch)
                {
                    steps += BackpropWorkspace.Normaliser(options.StepLoss, epochData.LengthsInternal[idx]);
                }

                var shards = Math.Min(threads, size);
                var orderArray = order;
                var data = epochData;
                Parallel.For(0, shards, new ParallelOptions { MaxDegreeOfParallelism = shards }, s =>
                {
                    var from = start + (int)((long)size * s / shards);
                    var to = start + (int)((long)size * (s + 1) / shards);
                    var ws = workspaces[s];
                    ws.Load(data, orderArray.AsSpan(from, to - from));
                    foreach (var p in grads[s].Parameters)
                    {
                        Array.Clear(p.Values);
                    }

                    losses[s] = ws.Forward(net, lossWeights, steps, options.StepLoss, options.DistillationWeight);
                    ws.Backward(net, grads[s], options.Trainable, lossWeights, steps, options.StepLoss, options.DistillationWeight);
                });

                double loss = 0;
                for (var s = 0; s < shards; s++)
                {
                    loss += losses[s];
                    if (s > 0)
                    {
                        var target = grads[0].Parameters;
                        var source = grads[s].Parameters;
                        for (var p = 0; p < target.Count; p++)
                        {
                            TensorPrimitives.Add(target[p].Values, source[p].Values, target[p].Values);
                        }
                    }
                }

                if (anchor is not null)
                {
                    L2Sp.AddGradient(weights, anchor, grads[0], options.Trainable, options.L2SpAlpha);
                }

                adam.Step(grads[0], options.ClipNorm);
                net.Refresh();
                epochLoss += loss * steps;
                epochSteps += steps;
                progress?.OnBatch(epoch, bi + 1, batches, loss);
            }

            var trainLoss = epochLoss / Math.Max(1, epochSteps);
            double valLoss = double.NaN, valAcc = double.NaN, valAuc = double.NaN, valEarly = double.NaN;
            if (validation is not null && validation.Count > 0)
            {
                var predictions = Predictor.Predict(net, validation, threads, classWeights, options.StepLoss, out valLoss);
                var last = Predictor.LastStep(validation, predictions);
                valAcc = ClassificationMetrics.Accuracy(last, validation.LabelsInternal, validation.Classes.Count);
                valAuc = ClassificationMetrics.MacroAuroc(last, validation.LabelsInternal, validation.Classes.Count);
                valEarly = EarlyCurve.MeanMacroAuroc(validation, predictions);
            }

            var record = new EpochRecord(epoch, trainLoss, valLoss, valAcc, valAuc, clock.Elapsed.TotalSeconds, valEarly);
            history.Add(record);
            progress?.OnEpoch(record);
            if (!double.IsFinite(trainLoss) || !AllFinite(weights))
            {
                throw new TrainingDivergedException(epoch, trainLoss, valLoss, options.LearningRate);
            }

            var score = double.IsNaN(valLoss) ? trainLoss : options.Selection switch
            {
                SelectionMetric.Auroc when double.IsFinite(valAuc) => -valAuc,
                SelectionMetric.EarlyAuroc when double.IsFinite(valEarly) => -valEarly,
                _ => valLoss,
            };
            if (score < best)
            {
                best = score;
                bestEpoch = epoch;
                bestWeights = weights.Clone();
                stale = 0;
            }
            else
            {
                stale++;
            }

            if (options.CheckpointDirectory is { } dir)
            {
                Directory.CreateDirectory(dir);
                weights.Save(Path.Combine(dir, "last.weights"));
                bestWeights?.Save(Path.Combine(dir, "best.weights"));
            }

            if (validation is not null && options.Patience > 0 && stale >= options.Patience)
            {
                stoppedEarly = true;
                break;
            }
        }

        return new TrainingResult(options.RestoreBest && validation is not null && bestWeights is not null ? bestWeights : weights, history, bestEpoch, stoppedEarly, classWeights);
    }

    private static bool AllFinite(GruClassifierWeights weights)
    {
        foreach (var p in weights.Parameters)
        {
            foreach (var v in p.Values)
            {
                if (!float.IsFinite(v))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>w_c = N / N_c over the training set (0 for an absent class), or all ones.</summary>
    /// <summary>
    /// Throws <see cref="ArgumentException"/> when the data's steps are not as wide as the network's input: the trainer and
    /// the predictor copied <see cref="GruClassifierConfig.InputFeatures"/>-wide slices out of wider rows without a word, so
    /// data encoded with another feature encoding than the network's (6 features of alertbroker-lc into a 4-feature
    /// muthukrishna2025 network) trained and scored on misaligned features.
    /// </summary>
    internal static void CheckStepFeatures(GruClassifierConfig config, EncodedDataset data, string parameter)
    {
        if (config.InputFeatures != data.StepFeatures)
        {
            throw new ArgumentException($"The network takes {config.InputFeatures} features per step; the data have {data.StepFeatures} (encoded with another feature encoding than the network's).", parameter);
        }
    }

    public static float[] ClassWeights(EncodedDataset train, bool weighted) => ClassWeights(train, weighted ? 1 : 0);

    /// <summary>w_c = (N / N_c)^<paramref name="power"/> over the training set (0 for an absent class); power 0 gives all ones.</summary>
    public static float[] ClassWeights(EncodedDataset train, double power)
    {
        ArgumentNullException.ThrowIfNull(train);
        var counts = train.ClassCounts();
        var w = new float[counts.Length];
        for (var c = 0; c < w.Length; c++)
        {
            // power 1 stays the exact single-precision N / N_c it always was.
            w[c] = power == 0 ? 1f : counts[c] == 0 ? 0f : power == 1 ? (float)train.Count / counts[c] : (float)Math.Pow((double)train.Count / counts[c], power);
        }

        return w;
    }
}

/// <summary>Adam (Kingma and Ba) over the trainable parameters only; frozen arrays are never written.</summary>
internal sealed class AdamOptimizer
{
    private const float Beta1 = 0.9f;
    private const float Beta2 = 0.999f;
    private const float Epsilon = 1e-7f;

    private readonly GruClassifierWeights _weights;
    private readonly bool[] _trainable;
    private readonly float[][] _m;
    private readonly float[][] _v;
    private readonly float _learningRate;
    private readonly float[] _rateScale;
    private int _t;

    public AdamOptimizer(GruClassifierWeights weights, TrainableLayers trainable, float learningRate, float gruRateScale = 1)
    {
        _weights = weights;
        _learningRate = learningRate;
        var parameters = weights.Parameters;
        _trainable = new bool[parameters.Count];
        _rateScale = new float[parameters.Count];
        _m = new float[parameters.Count][];
        _v = new float[parameters.Count][];
        for (var i = 0; i < parameters.Count; i++)
        {
            _trainable[i] = trainable.Includes(parameters[i].Name);
            _rateScale[i] = parameters[i].Name.StartsWith("gru.", StringComparison.Ordinal) ? gruRateScale : 1f;
            _m[i] = _trainable[i] ? new float[parameters[i].Values.Length] : [];
            _v[i] = _trainable[i] ? new float[parameters[i].Values.Length] : [];
        }
    }

    public void Step(GruClassifierWeights grads, float clipNorm)
    {
        var parameters = _weights.Parameters;
        var g = grads.Parameters;
        var scale = 1f;
        if (clipNorm > 0)
        {
            double sum = 0;
            for (var i = 0; i < parameters.Count; i++)
            {
                if (_trainable[i])
                {
                    var values = g[i].Values;
                    sum += TensorPrimitives.Dot(values, values);
                }
            }

            var norm = Math.Sqrt(sum);
            if (norm > clipNorm)
            {
                scale = (float)(clipNorm / norm);
            }
        }

        _t++;
        var correction1 = 1 - Math.Pow(Beta1, _t);
        var correction2 = 1 - Math.Pow(Beta2, _t);
        var stepSize = (float)(_learningRate * Math.Sqrt(correction2) / correction1);
        var epsHat = (float)(Epsilon * Math.Sqrt(correction2));
        for (var i = 0; i < parameters.Count; i++)
        {
            if (!_trainable[i])
            {
                continue;
            }

            var p = parameters[i].Values;
            var gi = g[i].Values;
            var step = stepSize * _rateScale[i];
            var m = _m[i];
            var v = _v[i];
            for (var j = 0; j < p.Length; j++)
            {
                var gj = gi[j] * scale;
                m[j] = (Beta1 * m[j]) + ((1 - Beta1) * gj);
                v[j] = (Beta2 * v[j]) + ((1 - Beta2) * gj * gj);
                p[j] -= step * m[j] / (MathF.Sqrt(v[j]) + epsHat);
            }
        }
    }
}

/// <summary>
/// The L2-SP penalty α/2 · Σ (θ − θ₀)² over the trainable parameters (Li, Grandvalet and Davoine 2018, "Explicit inductive
/// bias for transfer learning with convolutional networks"): pulls fine-tuned weights towards the starting point θ₀.
/// </summary>
internal static class L2Sp
{
    /// <summary>The penalty's value.</summary>
    public static double Value(GruClassifierWeights weights, GruClassifierWeights anchor, TrainableLayers trainable, float alpha)
    {
        double sum = 0;
        for (var i = 0; i < weights.Parameters.Count; i++)
        {
            if (!trainable.Includes(weights.Parameters[i].Name))
            {
                continue;
            }

            var p = weights.Parameters[i].Values;
            var a = anchor.Parameters[i].Values;
            for (var j = 0; j < p.Length; j++)
            {
                double d = p[j] - a[j];
                sum += d * d;
            }
        }

        return 0.5 * alpha * sum;
    }

    /// <summary>Adds the penalty's gradient α(θ − θ₀) to <paramref name="grads"/> for the trainable parameters.</summary>
    public static void AddGradient(GruClassifierWeights weights, GruClassifierWeights anchor, GruClassifierWeights grads, TrainableLayers trainable, float alpha)
    {
        for (var i = 0; i < weights.Parameters.Count; i++)
        {
            if (!trainable.Includes(weights.Parameters[i].Name))
            {
                continue;
            }

            var p = weights.Parameters[i].Values;
            var a = anchor.Parameters[i].Values;
            var g = grads.Parameters[i].Values;
            for (var j = 0; j < p.Length; j++)
            {
                g[j] += alpha * (p[j] - a[j]);
            }
        }
    }
}

/// <summary>SplitMix64 for shuffles and splits: the sequence is fixed by this code, not by the runtime.</summary>
internal sealed class SplitMix(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public int NextInt(int exclusiveMax) => (int)(Next() % (ulong)exclusiveMax);

    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

    public void Shuffle(Span<int> values)
    {
        for (var i = values.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
