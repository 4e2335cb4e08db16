using AlertBroker.Worker.Scoring;

namespace AlertBroker.Worker.Tests;

/// <summary>
/// Marks a fact that runs the model through ONNX Runtime. The runtime ships with its NuGet package, so these never skip:
/// a runtime that does not load fails them.
/// </summary>
public sealed class OnnxFactAttribute : FactAttribute
{
}

/// <summary>Random-weight models exported once per test run (small hidden size keeps the tests quick): "test-a" and "test-b", both for ZTF and LSST, without metadata.</summary>
internal static class TestModels
{
    private static readonly Lazy<ActiveModel> s_a = new(() => Create(1));
    private static readonly Lazy<ActiveModel> s_b = new(() => Create(2));

    public static ActiveModel A => s_a.Value;

    public static ActiveModel B => s_b.Value;

    private static ActiveModel Create(int seed)
    {
        var dir = Path.Combine(Path.GetTempPath(), "ab-worker-tests-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "-" + seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return ActiveModel.CreateRandom(dir, ["A", "B", "C", "D"], seed, hiddenSize: 16, name: "test-" + (char)('a' + seed - 1));
    }
}
