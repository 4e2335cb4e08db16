using AlertBroker.Alerts;
using AlertBroker.Model.Features;
using AlertBroker.Model.Network;
using AlertBroker.Training.Data;
using AlertBroker.Training.Training;

namespace AlertBroker.Training.Tests;

/// <summary>
/// What fine-tuning on few real light curves can lean on: replay of simulations (<see cref="EpochComposer"/>), L2-SP,
/// a GRU learning-rate scale, square-root class weights and light-curve augmentation (<see cref="LightCurveAugmenter"/>).
/// </summary>
public sealed class FineTuningAidsTests
{
    private static readonly int[] s_lengths = [5, 1, 3, 4, 2, 5];

    // ---- object weights in the loss ----

    [Theory]
    [InlineData(StepLoss.AllSteps)]
    [InlineData(StepLoss.Checkpoints)]
    public void Forward_ObjectWeights_MultiplyEachObjectsLoss(StepLoss stepLoss)
    {
        var config = TestNetworks.Tiny(0, 2);
        var weights = GruClassifierWeights.Random(config, 5);
        var objectWeights = new[] { 0.5f, 3f, 1f, 0f, 2f, 1.5f };
        var data = TestNetworks.RandomData(s_lengths, 0, config.Classes, 6).WithObjectWeights(objectWeights);
        var classWeights = new float[] { 1f, 2.5f, 0.5f };
        var normaliser = BackpropWorkspace.Normaliser(stepLoss, data.Lengths);

        // Each object's own loss (computed alone, unweighted) times its object weight, summed.
        double expected = 0;
        for (var i = 0; i < data.Count; i++)
        {
            var one = data.Subset([i]).WithObjectWeights(null);
            var ws1 = new BackpropWorkspace(config);
            ws1.Load(one, [0]);
            expected += objectWeights[i] * ws1.Forward(new NetworkView(weights), classWeights, normaliser, stepLoss);
        }

        var ws = new BackpropWorkspace(config);
        ws.Load(data, Enumerable.Range(0, data.Count).ToArray());
        Assert.Equal(expected, ws.Forward(new NetworkView(weights), classWeights, normaliser, stepLoss), 5);
    }

    [Fact]
    public void Backward_ObjectWeights_MatchFiniteDifferences()
    {
        var config = TestNetworks.Tiny(0, 2);
        var weights = GruClassifierWeights.Random(config, 11);
        var data = TestNetworks.RandomData(s_lengths, 0, config.Classes, 12).WithObjectWeights([0.5f, 3f, 1f, 0.25f, 2f, 1.5f]);
        var classWeights = new float[] { 1f, 2.5f, 0.5f };
        var indices = Enumerable.Range(0, data.Count).ToArray();
        var normaliser = BackpropWorkspace.Normaliser(StepLoss.AllSteps, data.Lengths);
        var ws = new BackpropWorkspace(config);
        var net = new NetworkView(weights);
        var grads = new GruClassifierWeights(config);
        ws.Load(data, indices);
        ws.Forward(net, classWeights, normaliser);
        ws.Backward(net, grads, TrainableLayers.All, classWeights, normaliser);

        double Loss()
        {
            net.Refresh();
            ws.Load(data, indices);
            return ws.Forward(net, classWeights, normaliser);
        }

        var (failures, compared) = CompareWithFiniteDifferences(weights, grads, Loss);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(compared > 100);
    }

    // ---- L2-SP ----

    [Fact]
    public void L2Sp_Gradient_MatchesFiniteDifferencesAndSkipsFrozenGroups()
    {
        var config = TestNetworks.Tiny(0, 2);
        var anchor = GruClassifierWeights.Random(config, 1);
        var weights = GruClassifierWeights.Random(config, 2);
        var trainable = TrainableLayers.Parse("gru1,latent,output");
        const float alpha = 0.7f;
        var grads = new GruClassifierWeights(config);
        L2Sp.AddGradient(weights, anchor, grads, trainable, alpha);

        for (var p = 0; p < weights.Parameters.Count; p++)
        {
            var parameter = weights.Parameters[p];
            var analytic = grads.Parameters[p].Values;
            for (var j = 0; j < parameter.Values.Length; j++)
            {
                var original = parameter.Values[j];
                const float h = 1e-2f;
                parameter.Values[j] = original + h;
                var up = L2Sp.Value(weights, anchor, trainable, alpha);
                parameter.Values[j] = original - h;
                var down = L2Sp.Value(weights, anchor, trainable, alpha);
                parameter.Values[j] = original;
                var numeric = (up - down) / (2 * h);
                Assert.Equal(numeric, analytic[j], 3);
                if (!trainable.Includes(parameter.Name))
                {
                    Assert.Equal(0f, analytic[j]);
                }
            }
        }

        Assert.Contains(grads.GetParameter("gru.weight_hh_l1").Values, v => Math.Abs(v) > 1e-3);
        Assert.Equal(0, L2Sp.Value(anchor, anchor, TrainableLayers.All, alpha));
    }

    [Fact]
    public void Train_StrongL2Sp_StaysCloserToTheStartThanWithout()
    {
        var train = TrendTask(120, 4);
        var start = GruClassifierWeights.Random(ToyConfig(), 5);
        var options = new TrainingOptions { MaxEpochs = 4, BatchSize = 16, LearningRate = 1e-2f, Patience = 0 };
        var free = GruTrainer.Train(start, train, null, options);
        var held = GruTrainer.Train(start, train, null, options with { L2SpAlpha = 50f });

        var distanceFree = L2Sp.Value(free.Weights, start, TrainableLayers.All, 2f);
        var distanceHeld = L2Sp.Value(held.Weights, start, TrainableLayers.All, 2f);
        Assert.True(distanceHeld < 0.5 * distanceFree, $"distance with L2-SP {distanceHeld}, without {distanceFree}");
    }

    // ---- GRU learning-rate scale and class weights ----

    [Fact]
    public void Train_GruLearningRateScaleZero_LeavesTheGruAndMovesTheHead()
    {
        var train = TrendTask(60, 7);
        var start = GruClassifierWeights.Random(ToyConfig(), 8);
        var result = GruTrainer.Train(start, train, null, new TrainingOptions { MaxEpochs = 2, BatchSize = 16, GruLearningRateScale = 0f });

        foreach (var (before, after) in start.Parameters.Zip(result.Weights.Parameters))
        {
            if (before.Name.StartsWith("gru.", StringComparison.Ordinal))
            {
                Assert.True(before.Values.AsSpan().SequenceEqual(after.Values), $"{before.Name} moved");
            }
            else if (!before.Name.StartsWith("meta_dense.weight", StringComparison.Ordinal))
            {
                // (The toy's metadata are all zero, so the metadata weights get no gradient at all.)
                Assert.False(before.Values.AsSpan().SequenceEqual(after.Values), $"{before.Name} did not move");
            }
        }
    }

    [Fact]
    public void ClassWeights_Powers_GiveInverseSquareRootAndNone()
    {
        // 6 objects: class 0 ×3, class 1 ×2, class 2 ×1.
        var data = EncodedDataset.FromArrays(["a", "b", "c"], [.. Enumerable.Range(0, 6).Select(_ => new float[6])], [], [0, 0, 0, 1, 1, 2], 0);
        Assert.Equal([2f, 3f, 6f], GruTrainer.ClassWeights(data, 1.0));
        Assert.Equal(GruTrainer.ClassWeights(data, true), GruTrainer.ClassWeights(data, 1.0));
        var sqrt = GruTrainer.ClassWeights(data, 0.5);
        Assert.Equal(MathF.Sqrt(2), sqrt[0], 6);
        Assert.Equal(MathF.Sqrt(3), sqrt[1], 6);
        Assert.Equal(MathF.Sqrt(6), sqrt[2], 6);
        Assert.Equal([1f, 1f, 1f], GruTrainer.ClassWeights(data, 0.0));
    }

    // ---- replay (epoch composer) ----

    [Fact]
    public void EpochComposer_Replay_AddsRatioTimesNFromThePoolWithTheirWeights()
    {
        var train = Labelled([0, 0, 0, 1, 1, 2], "t");
        var pool = Labelled([.. Enumerable.Range(0, 10).Select(i => i % 3)], "p");
        float[] classWeights = [2f, 3f, 6f];
        var composer = new EpochComposer(train, classWeights, new ReplayOptions { Pool = pool, Ratio = 0.5, Weight = 2f }, null, seed: 3);

        // Mean class weight of the training objects: (3·2 + 2·3 + 6) / 6 = 3, so a pool object weighs 2 × 3.
        Assert.Equal(3, composer.PoolPerEpoch);
        Assert.Equal(6f, composer.PoolWeight);
        var seen = new List<string>();
        for (var epoch = 0; epoch < 3; epoch++)
        {
            var set = composer.Next();
            Assert.Equal(9, set.Count);
            Assert.Equal(train.ObjectIds, set.ObjectIds.Take(6));
            Assert.Equal([2f, 2f, 2f, 3f, 3f, 6f], Enumerable.Range(0, 6).Select(set.ObjectWeight));
            for (var i = 6; i < 9; i++)
            {
                Assert.StartsWith("p", set.ObjectIds[i], StringComparison.Ordinal);
                Assert.Equal(6f, set.ObjectWeight(i));
                Assert.Equal(pool.Labels[pool.ObjectIds.ToList().IndexOf(set.ObjectIds[i])], set.Labels[i]);
                seen.Add(set.ObjectIds[i]);
            }
        }

        // Without replacement: 9 draws from a pool of 10 are 9 different objects.
        Assert.Equal(9, seen.Distinct().Count());

        // Deterministic for a seed, different for another.
        var again = new EpochComposer(train, classWeights, new ReplayOptions { Pool = pool, Ratio = 0.5, Weight = 2f }, null, seed: 3);
        var other = new EpochComposer(train, classWeights, new ReplayOptions { Pool = pool, Ratio = 0.5, Weight = 2f }, null, seed: 4);
        var first = new EpochComposer(train, classWeights, new ReplayOptions { Pool = pool, Ratio = 0.5, Weight = 2f }, null, seed: 3).Next().ObjectIds.Skip(6).ToArray();
        Assert.Equal(first, again.Next().ObjectIds.Skip(6));
        var draws = Enumerable.Range(0, 4).Select(_ => string.Join(",", other.Next().ObjectIds.Skip(6))).ToArray();
        Assert.NotEqual(string.Join(",", first), draws[0]);
    }

    [Fact]
    public void EpochComposer_BadReplay_IsRefused()
    {
        var train = Labelled([0, 1, 2], "t");
        var twoClasses = EncodedDataset.FromArrays(["a", "b"], [new float[6]], [], [0], 0);
        Assert.Throws<ArgumentException>(() => new EpochComposer(train, [1f, 1f, 1f], new ReplayOptions { Pool = twoClasses }, null, 1));
        Assert.Throws<ArgumentException>(() => new EpochComposer(train, [1f, 1f, 1f], new ReplayOptions { Pool = train, Ratio = 0 }, null, 1));
        Assert.Throws<ArgumentException>(() => new EpochComposer(train, [1f, 1f, 1f], new ReplayOptions { Pool = train, Weight = -1 }, null, 1));
        Assert.Throws<ArgumentException>(() => new AugmentationOptions { DropProbability = 1 }.Validate());
        Assert.Throws<ArgumentException>(() => new AugmentationOptions { LateStartDays = 0 }.Validate());
    }

    [Fact]
    public void Train_ReplayOfAClassTheTrainingSetLacks_TeachesIt()
    {
        // The training set has rising and falling light curves only; the pool also has flat ones. With replay the network
        // learns to call flat light curves flat; without, it never sees one.
        var train = ThreeTrends(120, 1, withFlat: false);
        var pool = ThreeTrends(300, 2, withFlat: true);
        var flatOnly = ThreeTrends(60, 3, withFlat: true);
        var flat = flatOnly.Subset([.. Enumerable.Range(0, flatOnly.Count).Where(i => flatOnly.Labels[i] == 2)]);
        var config = ToyConfig() with { Classes = 3, MetaFeatures = 0, MetaDenseSize = 0 };
        var start = GruClassifierWeights.Random(config, 4);
        var options = new TrainingOptions { MaxEpochs = 15, BatchSize = 32, LearningRate = 1e-2f, Patience = 0 };

        double MeanFlatProbability(GruClassifierWeights w)
        {
            var last = Predictor.LastStep(flat, Predictor.Predict(w, flat, threads: 1));
            return Enumerable.Range(0, flat.Count).Average(i => last[(i * 3) + 2]);
        }

        var without = MeanFlatProbability(GruTrainer.Train(start, train, null, options).Weights);
        var with = MeanFlatProbability(GruTrainer.Train(start, train, null, options with { Replay = new ReplayOptions { Pool = pool, Ratio = 1 } }).Weights);
        Assert.True(with > 0.5, $"P(flat) with replay {with}");
        Assert.True(without < 0.2, $"P(flat) without replay {without}");
        Assert.True(with > 3 * without, $"P(flat) {with} with replay, {without} without");
    }

    [Fact]
    public void Train_WithoutReplayOrAugmentation_IsUnchangedByTheNewOptionsAtTheirDefaults()
    {
        var train = TrendTask(50, 9);
        var start = GruClassifierWeights.Random(ToyConfig(), 10);
        var options = new TrainingOptions { MaxEpochs = 2, BatchSize = 16 };
        var plain = GruTrainer.Train(start, train, null, options);
        var defaults = GruTrainer.Train(start, train, null, options with { ClassWeightPower = 1, L2SpAlpha = 0, GruLearningRateScale = 1, Augmentation = new AugmentationOptions() });
        foreach (var (a, b) in plain.Weights.Parameters.Zip(defaults.Weights.Parameters))
        {
            Assert.True(a.Values.AsSpan().SequenceEqual(b.Values), a.Name);
        }
    }

    // ---- augmentation ----

    [Fact]
    public void Augment_LateStart_EqualsEncodingTheLaterPointsFromTheirFirstDetection()
    {
        var points = LightCurve(25, seed: 1);
        var data = Encode(points);
        var augmenter = new LightCurveAugmenter(new AugmentationOptions { LateStartProbability = 1, LateStartDays = 20 }, seed: 7);
        var shortened = 0;
        for (var trial = 0; trial < 40; trial++)
        {
            var (steps, days) = augmenter.Augment(data.StepsInternal[0], data.DaysInternal[0], data.Lengths[0]);
            var removed = points.Length - days.Length;
            shortened += removed > 0 ? 1 : 0;
            Assert.True(removed == 0 || points[removed - 1].Mjd - points[0].Mjd < 20, "a point after the first 20 days removed");
            AssertEncodes(points[removed..], steps, days);
        }

        Assert.True(shortened > 20, $"{shortened} of 40 light curves started later");
    }

    [Fact]
    public void Augment_Drop_KeepsAnOrderedSubsetEncodedAsTheServingCodeWouldAndNeverNothing()
    {
        var points = LightCurve(30, seed: 2);
        var data = Encode(points);
        var augmenter = new LightCurveAugmenter(new AugmentationOptions { DropProbability = 0.3 }, seed: 8);
        long kept = 0;
        for (var trial = 0; trial < 50; trial++)
        {
            var (steps, days) = augmenter.Augment(data.StepsInternal[0], data.DaysInternal[0], data.Lengths[0]);
            Assert.NotEmpty(days);
            kept += days.Length;

            // Which points survived: match each output row's flux and band in order.
            var subset = new List<Observation>();
            var next = 0;
            for (var j = 0; j < days.Length; j++)
            {
                while (Math.Abs((MathF.Asinh(points[next].FluxMicroJy / 10f) / 5f) - steps[(j * 6) + 3]) > 1e-7f)
                {
                    next++;
                }

                subset.Add(points[next++]);
            }

            AssertEncodes([.. subset], steps, days);
        }

        Assert.InRange(kept / 50.0, 0.6 * 30, 0.8 * 30);

        var almostAll = new LightCurveAugmenter(new AugmentationOptions { DropProbability = 0.999 }, seed: 9);
        for (var trial = 0; trial < 20; trial++)
        {
            Assert.NotEmpty(almostAll.Augment(data.StepsInternal[0], data.DaysInternal[0], data.Lengths[0]).Days);
        }
    }

    [Fact]
    public void Augment_Noise_HasTheSpreadOfTheErrorsTimesTheScaleAndTouchesNothingElse()
    {
        var points = LightCurve(40, seed: 3);
        var data = Encode(points);
        var augmenter = new LightCurveAugmenter(new AugmentationOptions { NoiseScale = 0.5 }, seed: 10);
        var pulls = new List<double>();
        for (var trial = 0; trial < 500; trial++)
        {
            var (steps, days) = augmenter.Augment(data.StepsInternal[0], data.DaysInternal[0], data.Lengths[0]);
            Assert.Equal(data.DaysInternal[0], days);
            for (var t = 0; t < points.Length; t++)
            {
                var flux = 10 * Math.Sinh(5 * steps[(t * 6) + 3]);
                pulls.Add((flux - points[t].FluxMicroJy) / points[t].FluxErrMicroJy);
                foreach (var k in new[] { 0, 1, 2, 4, 5 })
                {
                    Assert.Equal(data.StepsInternal[0][(t * 6) + k], steps[(t * 6) + k], 5);
                }
            }
        }

        var mean = pulls.Average();
        var sd = Math.Sqrt(pulls.Sum(p => (p - mean) * (p - mean)) / (pulls.Count - 1));
        Assert.InRange(mean, -0.02, 0.02);
        Assert.InRange(sd, 0.48, 0.52);
    }

    [Fact]
    public void Augment_MagnitudeShift_ScalesFluxAndErrorByOneFactorPerCurveUniformInMagnitudes()
    {
        var points = LightCurve(30, seed: 4);
        var data = Encode(points);
        var augmenter = new LightCurveAugmenter(new AugmentationOptions { MagnitudeShift = 1.0 }, seed: 11);
        var shifts = new List<double>();
        for (var trial = 0; trial < 400; trial++)
        {
            var (steps, days) = augmenter.Augment(data.StepsInternal[0], data.DaysInternal[0], data.Lengths[0]);
            Assert.Equal(data.DaysInternal[0], days);
            var first = 10 * Math.Sinh(5 * steps[3]) / points[0].FluxMicroJy;
            var deltaMag = -2.5 * Math.Log10(first);
            Assert.InRange(deltaMag, -1.0001, 1.0001);
            shifts.Add(deltaMag);
            for (var t = 0; t < points.Length; t++)
            {
                // Flux and error by the same factor (so S/N and the detection flag stay); time, band, gaps untouched.
                Assert.Equal(first, 10 * Math.Sinh(5 * steps[(t * 6) + 3]) / points[t].FluxMicroJy, tolerance: 1e-3);
                Assert.Equal(first, 10 * Math.Sinh(5 * steps[(t * 6) + 4]) / points[t].FluxErrMicroJy, tolerance: 1e-3);
                foreach (var k in new[] { 0, 1, 2, 5 })
                {
                    Assert.Equal((double)data.StepsInternal[0][(t * 6) + k], steps[(t * 6) + k], tolerance: 1e-5);
                }
            }
        }

        // Uniform in [−1, 1] mag: mean 0, variance 1/3, both ends reached.
        Assert.InRange(shifts.Average(), -0.08, 0.08);
        Assert.InRange(shifts.Select(m => m * m).Average(), 0.29, 0.38);
        Assert.True(shifts.Min() < -0.9 && shifts.Max() > 0.9);
        Assert.Throws<ArgumentException>(() => new AugmentationOptions { MagnitudeShift = -0.1 }.Validate());
        Assert.Throws<ArgumentException>(() => new AugmentationOptions { MagnitudeShift = double.NaN }.Validate());
        Assert.True(new AugmentationOptions { MagnitudeShift = 0.5 }.IsActive);
    }

    [Fact]
    public void Augment_SameSeed_SameLightCurvesAndLabelsKept()
    {
        var data = EncodedDataset.Encode(new LabelledDataset("t", [new LabelledObject("A", "x", LightCurve(20, 4), double.NaN, double.NaN), new LabelledObject("B", "y", LightCurve(12, 5), double.NaN, double.NaN)]), ["x", "y"], new EncodingOptions { Metadata = MetadataUse.None });
        var options = new AugmentationOptions { DropProbability = 0.2, NoiseScale = 1, LateStartProbability = 0.5 };
        var a = new LightCurveAugmenter(options, 5).Augment(data);
        var b = new LightCurveAugmenter(options, 5).Augment(data);
        var c = new LightCurveAugmenter(options, 6).Augment(data);
        Assert.Equal(a.StepsInternal, b.StepsInternal);
        Assert.NotEqual(a.StepsInternal, c.StepsInternal);
        Assert.Equal(data.Labels, a.Labels);
        Assert.Equal(data.ObjectIds, a.ObjectIds);
    }

    // ---- helpers ----

    private static void AssertEncodes(Observation[] points, float[] steps, float[] days)
    {
        var expected = new float[points.Length * 6];
        var t0 = LightCurveEncoding.ReferenceTime(points);
        LightCurveEncoding.EncodeSteps(points, 0, t0, double.NaN, expected);
        Assert.Equal(expected.Length, steps.Length);
        for (var j = 0; j < expected.Length; j++)
        {
            Assert.Equal(expected[j], steps[j], 4);
        }

        for (var j = 0; j < points.Length; j++)
        {
            Assert.Equal(points[j].Mjd - t0, days[j], 3);
        }
    }

    private static EncodedDataset Encode(Observation[] points) =>
        EncodedDataset.Encode(new LabelledDataset("t", [new LabelledObject("A", "x", points, double.NaN, double.NaN)]), ["x"], new EncodingOptions { Metadata = MetadataUse.None });

    // A detections-only light curve in g and r, one to three days apart, fluxes 50–500 µJy with 5–20 µJy errors.
    private static Observation[] LightCurve(int count, int seed)
    {
        var random = new Random(seed);
        var points = new Observation[count];
        var mjd = 59000.0;
        for (var i = 0; i < count; i++)
        {
            mjd += 1 + (2 * random.NextDouble());
            points[i] = new Observation(i + 1, mjd, i % 2 == 0 ? Passband.ZtfG : Passband.ZtfR, ObservationKind.Detection, (float)(50 + (450 * random.NextDouble())), (float)(5 + (15 * random.NextDouble())), float.NaN);
        }

        return points;
    }

    private static EncodedDataset Labelled(int[] labels, string prefix)
    {
        var steps = labels.Select(_ => new float[12]).ToArray();
        var data = EncodedDataset.FromArrays(["a", "b", "c"], steps, [], labels, 0);
        var ids = Enumerable.Range(0, labels.Length).Select(i => prefix + i).ToArray();
        return new EncodedDataset(data.Classes, ids, data.StepsInternal, data.DaysInternal, data.LengthsInternal, data.MetaInternal, data.LabelsInternal, 0);
    }

    private static (List<string> Failures, int Compared) CompareWithFiniteDifferences(GruClassifierWeights weights, GruClassifierWeights grads, Func<double> loss)
    {
        var failures = new List<string>();
        var compared = 0;
        for (var p = 0; p < weights.Parameters.Count; p++)
        {
            var parameter = weights.Parameters[p];
            var analytic = grads.Parameters[p].Values;
            for (var j = 0; j < parameter.Values.Length; j++)
            {
                var original = parameter.Values[j];
                const float h = 5e-4f;
                parameter.Values[j] = original + h;
                var up = loss();
                parameter.Values[j] = original - h;
                var down = loss();
                parameter.Values[j] = original;
                var centre = loss();
                var numeric = (up - down) / (2 * h);
                var tolerance = 2e-4 + (2e-2 * Math.Abs(numeric));
                if (Math.Abs(((up - centre) / h) - ((centre - down) / h)) > 4 * tolerance)
                {
                    continue; // a ReLU kink
                }

                compared++;
                if (Math.Abs(numeric - analytic[j]) > tolerance)
                {
                    failures.Add($"{parameter.Name}[{j}]: analytic {analytic[j]:G6}, numeric {numeric:G6}");
                }
            }
        }

        return (failures, compared);
    }

    // Rising (0), falling (1) and, with withFlat, flat (2) light curves in noise.
    private static EncodedDataset ThreeTrends(int count, int seed, bool withFlat)
    {
        var random = new Random(seed);
        var classes = withFlat ? 3 : 2;
        var steps = new float[count][];
        var labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            var label = i % classes;
            labels[i] = label;
            var length = random.Next(4, 12);
            steps[i] = new float[length * 6];
            for (var t = 0; t < length; t++)
            {
                var row = steps[i].AsSpan(t * 6, 6);
                row[0] = 0.5f;
                row[1] = t * 0.1f;
                row[3] = (label switch { 0 => 0.15f, 1 => -0.15f, _ => 0f } * t) + 0.3f + (float)((random.NextDouble() - 0.5) * 0.1);
                row[4] = 0.1f;
                row[5] = 1f;
            }
        }

        return EncodedDataset.FromArrays(["rising", "falling", "flat"], steps, [], labels, 0);
    }

    private static EncodedDataset TrendTask(int count, int seed)
    {
        var random = new Random(seed);
        var steps = new float[count][];
        var labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            var length = random.Next(3, 12);
            labels[i] = i % 2;
            steps[i] = new float[length * 6];
            for (var t = 0; t < length; t++)
            {
                var row = steps[i].AsSpan(t * 6, 6);
                row[0] = 0.5f;
                row[1] = t * 0.1f;
                row[3] = ((labels[i] == 0 ? 1 : -1) * t * 0.15f) + (float)((random.NextDouble() - 0.5) * 0.2);
                row[4] = 0.1f;
                row[5] = 1f;
            }
        }

        return EncodedDataset.FromArrays(["rising", "falling"], steps, new float[count * 4], labels, 4);
    }

    private static GruClassifierConfig ToyConfig() => new()
    {
        InputFeatures = 6,
        MetaFeatures = 4,
        HiddenSize = 8,
        DenseSize = 8,
        MetaDenseSize = 2,
        MergeSize = 8,
        LatentSize = 8,
        Classes = 2,
    };
}
