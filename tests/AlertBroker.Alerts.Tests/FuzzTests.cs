
namespace AlertBroker.Alerts.Tests;

/// <summary>Random, truncated and bit-flipped input: the only failure allowed is a typed AlertFormatException.</summary>
public class FuzzTests
{
    private readonly AlertDecoder _decoder = new();

    [Fact]
    public void Decode_RandomBytes_OnlyTypedErrors()
    {
        var random = new Random(1234);
        for (var i = 0; i < 5000; i++)
        {
            var bytes = new byte[random.Next(0, 512)];
            random.NextBytes(bytes);
            if (i % 3 == 0 && bytes.Length > 4)
            {
                "Obj\u0001"u8.CopyTo(bytes);
            }

            if (i % 3 == 1 && bytes.Length > 5)
            {
                bytes[0] = 0;
            }

            DecodeExpectingOnlyTypedErrors(bytes);
        }
    }

    [SharedDataFact]
    public void Decode_EveryTruncationOfARealZtfAlert_OnlyTypedErrors()
    {
        var bytes = File.ReadAllBytes(SharedData.Files("alert-samples/ztf-real-50")[0]);
        var step = Math.Max(1, bytes.Length / 4000);
        for (var length = 0; length < bytes.Length; length += step)
        {
            DecodeExpectingOnlyTypedErrors(bytes.AsMemory(0, length));
        }
    }

    [SharedDataFact]
    public void Decode_BitFlippedRealAlerts_OnlyTypedErrorsOrAlerts()
    {
        var random = new Random(42);
        string[] files = [.. SharedData.Files("alert-samples/ztf-real-50").Take(5), .. SharedData.Files("alert-samples/lsst-real-v7_4").Take(3), .. SharedData.Files("alert-samples/ztf")];
        foreach (var file in files)
        {
            var original = File.ReadAllBytes(file);
            for (var i = 0; i < 400; i++)
            {
                var mutated = (byte[])original.Clone();
                var flips = 1 + random.Next(3);
                for (var f = 0; f < flips; f++)
                {
                    // Half the flips land in the first 32 KB, where the schema and the light curve are.
                    var at = random.Next(2) == 0 ? random.Next(Math.Min(mutated.Length, 32768)) : random.Next(mutated.Length);
                    mutated[at] ^= (byte)(1 << random.Next(8));
                }

                DecodeExpectingOnlyTypedErrors(mutated);
            }
        }
    }

    private void DecodeExpectingOnlyTypedErrors(ReadOnlyMemory<byte> bytes)
    {
        var output = new List<Alert>();
        try
        {
            _decoder.Decode(bytes, output);
        }
        catch (AlertFormatException)
        {
            // the one allowed failure
        }
    }
}
