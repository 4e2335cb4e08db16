using AlertBroker.Training.Data;

namespace AlertBroker.Training.Training;

/// <summary>
/// Distillation with privileged information (Lopez-Paz, Bottou, Schölkopf and Vapnik 2016, "Unifying distillation and
/// privileged information"): a teacher that sees what the stream lacks (a host redshift) scores every step of the
/// training light curves, and the student — which sees only the light curve — learns from its soft probabilities
/// beside the labels (<see cref="TrainingOptions.DistillationWeight"/>).
/// </summary>
public static class Distillation
{
    /// <summary>
    /// The teacher's class probabilities after every step of every object of <paramref name="student"/>, softened by
    /// <paramref name="temperature"/> (q_c ∝ p_c^(1/T): the softmax of the teacher's logits divided by T), as soft targets
    /// for <see cref="EncodedDataset.WithSoftTargets"/>. The teacher encodes <paramref name="data"/> (the labelled set the
    /// student was encoded from) with its own encoding and metadata, and must have the student's classes in the same
    /// order and see the same steps of each object (same step limit and detection selection); otherwise, or when an
    /// object of the student is missing from the teacher's encoding, <see cref="ArgumentException"/>.
    /// </summary>
    public static float[][] TeacherTargets(TrainedModel teacher, LabelledDataset data, EncodedDataset student, int maxSteps, double temperature = 1, int threads = 2)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(student);
        if (!(temperature is > 0 and <= 100))
        {
            throw new ArgumentException($"The distillation temperature must be in (0, 100], not {temperature}.", nameof(temperature));
        }

        if (!teacher.Classes.SequenceEqual(student.Classes, StringComparer.Ordinal))
        {
            throw new ArgumentException($"The teacher's classes ({string.Join(", ", teacher.Classes)}) are not the student's ({string.Join(", ", student.Classes)}) in the same order.", nameof(teacher));
        }

        var encoding = ModelIo.EncodingOf(teacher.Manifest);
        var metadata = teacher.Weights.Config.MetaFeatures == 0 ? MetadataUse.None : MetadataUse.Known;
        var encoded = EncodedDataset.Encode(data, student.Classes, new EncodingOptions { MaxSteps = maxSteps, Metadata = metadata, Encoding = encoding });
        var probabilities = Predictor.Predict(teacher.Weights, encoded, threads);
        var index = new Dictionary<string, int>(encoded.Count, StringComparer.Ordinal);
        for (var i = 0; i < encoded.Count; i++)
        {
            index[encoded.ObjectIdsInternal[i]] = i;
        }

        var k = student.Classes.Count;
        var targets = new float[student.Count][];
        for (var i = 0; i < student.Count; i++)
        {
            var id = student.ObjectIdsInternal[i];
            if (!index.TryGetValue(id, out var j))
            {
                throw new ArgumentException($"The teacher could not score object {id} (no step in its encoding).", nameof(data));
            }

            if (encoded.LengthsInternal[j] != student.LengthsInternal[i])
            {
                throw new ArgumentException($"The teacher sees {encoded.LengthsInternal[j]} steps of object {id}, the student {student.LengthsInternal[i]}: both need the same step limit and detection selection.", nameof(data));
            }

            targets[i] = Soften(probabilities[j], k, temperature);
        }

        return targets;
    }

    /// <summary>Each row of k probabilities raised to 1/T and renormalised (T = 1: unchanged).</summary>
    internal static float[] Soften(float[] probabilities, int k, double temperature)
    {
        var result = (float[])probabilities.Clone();
        if (temperature == 1)
        {
            return result;
        }

        for (var row = 0; row < result.Length; row += k)
        {
            double sum = 0;
            for (var c = 0; c < k; c++)
            {
                var v = Math.Exp(Math.Log(Math.Max(result[row + c], 1e-30)) / temperature);
                result[row + c] = (float)v;
                sum += v;
            }

            for (var c = 0; c < k; c++)
            {
                result[row + c] = (float)(result[row + c] / sum);
            }
        }

        return result;
    }
}
