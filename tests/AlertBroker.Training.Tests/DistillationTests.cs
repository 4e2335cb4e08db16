using AlertBroker.Alerts;
using AlertBroker.Model.Network;
using AlertBroker.Training.Data;
using AlertBroker.Training.Training;

namespace AlertBroker.Training.Tests;

/// <summary>
/// Distillation with privileged information: soft targets in the loss (<see cref="BackpropWorkspace"/>; the gradient
/// check is in <see cref="BackpropTests"/>), a teacher's targets for a student's objects (<see cref="Distillation"/>) and
/// the trainer's use of them.
/// </summary>
public sealed class DistillationTests
{
    private static readonly int[] s_lengths = [5, 1, 3, 4, 2, 5];
    private static readonly string[] s_classes = ["A", "B", "C"];

    [Fact]
    public void Forward_SoftTargets_IsTheCrossEntropyWithTheMixedTarget()
    {
        var config = TestNetworks.Tiny(0, 2);
        var weights = GruClassifierWeights.Random(config, 5);
        var data = TestNetworks.RandomData(s_lengths, 0, config.Classes, 6);
        var q = TestNetworks.RandomDistributions(data, 7);
        data = data.WithSoftTargets(q);
        var classWeights = new float[] { 1f, 2.5f, 0.5f };
        const float alpha = 0.3f;
        var probs = Predictor.Predict(weights, data, threads: 1);

        double expected = 0, steps = 0;
        var k = config.Classes;
        for (var i = 0; i < data.Count; i++)
        {
            for (var t = 0; t < data.Lengths[i]; t++)
            {
                for (var c = 0; c < k; c++)
                {
                    var target = ((1 - alpha) * (c == data.Labels[i] ? 1 : 0)) + (alpha * q[i][(t * k) + c]);
                    expected -= classWeights[data.Labels[i]] * target * Math.Log(probs[i][(t * k) + c]);
                }

                steps++;
            }
        }

        var ws = new BackpropWorkspace(config);
        ws.Load(data, Enumerable.Range(0, data.Count).ToArray());
        Assert.Equal(expected / steps, ws.Forward(new NetworkView(weights), classWeights, steps, StepLoss.AllSteps, alpha), 5);

        // Without a weight, the soft targets are ignored: the plain loss.
        ws.Load(data, Enumerable.Range(0, data.Count).ToArray());
        var plain = ws.Forward(new NetworkView(weights), classWeights, steps, StepLoss.AllSteps);
        Assert.NotEqual(expected / steps, plain, 3);
    }

    [Fact]
    public void SoftTargets_FollowSubsets_AndMustFitTheirObjects()
    {
        var data = TestNetworks.RandomData(s_lengths, 0, 3, 1);
        var q = TestNetworks.RandomDistributions(data, 2);
        var subset = data.WithSoftTargets(q).Subset([4, 0]);
        Assert.True(subset.HasSoftTargets);
        Assert.Same(q[4], subset.SoftTargetsInternal![0]);
        Assert.Same(q[0], subset.SoftTargetsInternal[1]);

        var wrong = (float[][])q.Clone();
        wrong[1] = new float[7];
        var e = Assert.Throws<ArgumentException>(() => data.WithSoftTargets(wrong));
        Assert.Contains("7 soft-target values for 1 steps × 3 classes", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => data.WithSoftTargets(q[..2]));
        Assert.Throws<ArgumentException>(() => EncodedDataset.Concat(data.WithSoftTargets(q), data));
    }

    [Fact]
    public void TeacherTargets_AreTheTeachersProbabilitiesWithItsMetadata_InTheStudentsOrder()
    {
        var data = Labelled();
        var teacherWeights = GruClassifierWeights.Random(TestNetworks.Tiny(meta: 4), 3);
        var teacher = new TrainedModel(teacherWeights, s_classes, null);
        var student = EncodedDataset.Encode(data, s_classes, new EncodingOptions { Metadata = MetadataUse.None }).Subset([2, 0, 1]);

        var targets = Distillation.TeacherTargets(teacher, data, student, maxSteps: 100, temperature: 1, threads: 1);

        // What the teacher gives each object with its redshift, found by id.
        var withMeta = EncodedDataset.Encode(data, s_classes, new EncodingOptions { Metadata = MetadataUse.Known });
        var expected = Predictor.Predict(teacherWeights, withMeta, threads: 1);
        Assert.Equal(3, targets.Length);
        for (var i = 0; i < student.Count; i++)
        {
            var j = Array.IndexOf(withMeta.ObjectIdsInternal, student.ObjectIds[i]);
            Assert.Equal(expected[j], targets[i]);
        }

        // The redshift matters to this teacher: without it, its probabilities differ.
        var blind = Predictor.Predict(teacherWeights, EncodedDataset.Encode(data, s_classes, new EncodingOptions { Metadata = MetadataUse.Unknown }), threads: 1);
        Assert.NotEqual(blind[0], expected[0]);

        // The student's data carry them into training.
        Assert.True(student.WithSoftTargets(targets).HasSoftTargets);
    }

    [Fact]
    public void TeacherTargets_Temperature_SoftensEveryStep_KeepingTheOrder()
    {
        var data = Labelled();
        var teacher = new TrainedModel(GruClassifierWeights.Random(TestNetworks.Tiny(meta: 4), 3), s_classes, null);
        var student = EncodedDataset.Encode(data, s_classes, new EncodingOptions { Metadata = MetadataUse.None });
        var plain = Distillation.TeacherTargets(teacher, data, student, 100, 1, 1);
        var soft = Distillation.TeacherTargets(teacher, data, student, 100, 4, 1);
        for (var i = 0; i < plain.Length; i++)
        {
            for (var row = 0; row < plain[i].Length; row += 3)
            {
                var p = plain[i].AsSpan(row, 3).ToArray();
                var q = soft[i].AsSpan(row, 3).ToArray();
                Assert.Equal(1.0, q.Sum(), 5);
                Assert.True(q.Max() <= p.Max() + 1e-6 && q.Min() >= p.Min() - 1e-6);
                Assert.Equal(Array.IndexOf(p, p.Max()), Array.IndexOf(q, q.Max()));

                // q_c ∝ p_c^(1/T)
                Assert.Equal(Math.Pow(p[0] / p[1], 0.25), q[0] / q[1], 3);
            }
        }
    }

    [Fact]
    public void TeacherTargets_RefuseAnotherClassOrder_OtherSteps_AndABadTemperature()
    {
        var data = Labelled();
        var student = EncodedDataset.Encode(data, s_classes, new EncodingOptions { Metadata = MetadataUse.None });
        var reordered = new TrainedModel(GruClassifierWeights.Random(TestNetworks.Tiny(meta: 4), 3), ["B", "A", "C"], null);
        Assert.Contains("not the student's", Assert.Throws<ArgumentException>(() => Distillation.TeacherTargets(reordered, data, student, 100)).Message, StringComparison.Ordinal);

        var teacher = new TrainedModel(GruClassifierWeights.Random(TestNetworks.Tiny(meta: 4), 3), s_classes, null);
        var shorter = Assert.Throws<ArgumentException>(() => Distillation.TeacherTargets(teacher, data, student, maxSteps: 4));
        Assert.Contains("the same step limit", shorter.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Distillation.TeacherTargets(teacher, data, student, 100, temperature: 0));
    }

    [Fact]
    public void Train_WithTheTeachersTargetsOnly_MovesTheStudentTowardsTheTeacher()
    {
        var config = TestNetworks.Tiny(meta: 0, hidden: 8);
        var data = TestNetworks.RandomData([.. Enumerable.Repeat(6, 48)], 0, config.Classes, 21);
        var teacher = GruClassifierWeights.Random(config, 22);
        var targets = Predictor.Predict(teacher, data, threads: 1);
        var student = GruClassifierWeights.Random(config, 23);
        var options = new TrainingOptions { MaxEpochs = 40, BatchSize = 16, LearningRate = 1e-2f, Patience = 0, Threads = 1, WeightClasses = false, DistillationWeight = 1 };

        var result = GruTrainer.Train(student, data.WithSoftTargets(targets), null, options);

        var before = MeanKl(targets, Predictor.Predict(student, data, threads: 1));
        var after = MeanKl(targets, Predictor.Predict(result.Weights, data, threads: 1));
        Assert.True(after < before / 4, $"KL(teacher ‖ student) {before:G4} → {after:G4}");

        // With α = 1 the labels play no part: relabelled data train the same weights.
        var relabelled = EncodedDataset.FromArrays(data.Classes, data.StepsInternal, data.MetaInternal, [.. data.Labels.Select(l => (l + 1) % 3)], 0);
        var other = GruTrainer.Train(student, relabelled.WithSoftTargets(targets), null, options);
        Assert.Equal(result.Weights.GetParameter("output.weight").Values, other.Weights.GetParameter("output.weight").Values);
    }

    [Fact]
    public void Train_Distillation_RefusesMissingTargets_ReplayAndAugmentation_AndAWeightOutOfRange()
    {
        var config = TestNetworks.Tiny(meta: 0);
        var data = TestNetworks.RandomData(s_lengths, 0, config.Classes, 1);
        var weights = GruClassifierWeights.Random(config, 2);
        var withTargets = data.WithSoftTargets(TestNetworks.RandomDistributions(data, 3));
        var options = new TrainingOptions { MaxEpochs = 1, Threads = 1, DistillationWeight = 0.5f };
        Assert.Contains("soft targets", Assert.Throws<ArgumentException>(() => GruTrainer.Train(weights, data, null, options)).Message, StringComparison.Ordinal);
        Assert.Contains("augmentation", Assert.Throws<ArgumentException>(() => GruTrainer.Train(weights, withTargets, null, options with { Augmentation = new AugmentationOptions { DropProbability = 0.2 } })).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => GruTrainer.Train(weights, withTargets, null, options with { DistillationWeight = 1.5f }));
        Assert.Throws<ArgumentException>(() => GruTrainer.Train(weights, withTargets, null, options with { DistillationWeight = float.NaN }));
    }

    private static double MeanKl(float[][] p, float[][] q)
    {
        double sum = 0;
        var n = 0;
        for (var i = 0; i < p.Length; i++)
        {
            for (var j = 0; j < p[i].Length; j++)
            {
                sum += p[i][j] * Math.Log(p[i][j] / q[i][j]);
            }

            n += p[i].Length / 3;
        }

        return sum / n;
    }

    // Three objects of 5, 3 and 6 ZTF detections, each with a redshift.
    private static LabelledDataset Labelled()
    {
        var objects = new List<LabelledObject>();
        int[] counts = [5, 3, 6];
        for (var o = 0; o < counts.Length; o++)
        {
            var points = new Observation[counts[o]];
            var mjd = 59000.0;
            for (var i = 0; i < points.Length; i++)
            {
                mjd += 1.5 + i;
                points[i] = new Observation(i + 1, mjd, i % 2 == 0 ? Passband.ZtfG : Passband.ZtfR, ObservationKind.Detection, 100f + (40 * i) + (30 * o), 8f, float.NaN);
            }

            objects.Add(new LabelledObject("obj" + o, s_classes[o], points, 0.05 + (0.1 * o), 0.02));
        }

        return new LabelledDataset("test", objects);
    }
}
