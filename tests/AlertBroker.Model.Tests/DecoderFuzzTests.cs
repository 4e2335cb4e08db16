using AlertBroker.Model.Network;
using AlertBroker.Model.Packaging;
using FsCheck;
using FsCheck.Fluent;

namespace AlertBroker.Model.Tests;

/// <summary>Random and mutated bytes thrown at every decoder in this project: only the typed format exception may come out.</summary>
public class DecoderFuzzTests
{
    private static readonly GruClassifierConfig s_config = TestData.Config(3, 1, 4, 2, 2);

    private static Arbitrary<(int Position, byte Value)> Mutations(int length) =>
        Gen.Choose(0, length - 1).Zip(ArbMap.Default.GeneratorFor<byte>()).ToArbitrary();

    [Fact]
    public void LoadWeights_MutatedFile_ThrowsOnlyInvalidDataException()
    {
        using var stream = new MemoryStream();
        GruClassifierWeights.Random(s_config, 1).Save(stream);
        var bytes = stream.ToArray();
        Prop.ForAll(Mutations(bytes.Length), mutation =>
        {
            var mutated = (byte[])bytes.Clone();
            mutated[mutation.Position] = mutation.Value;
            try
            {
                GruClassifierWeights.Load(new MemoryStream(mutated));
                GruClassifierWeights.Load(new MemoryStream(mutated, 0, mutation.Position));
            }
            catch (InvalidDataException)
            {
            }
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void LoadWeights_HiddenSizeWhoseParameterCountOverflows_InvalidData()
    {
        // The case the property above once found (byte 23 := 103): a hidden size of about 1.7e9 whose 3·H² parameters
        // overflow a long, so the size check saw a negative count and the layer constructor overflowed.
        using var stream = new MemoryStream();
        GruClassifierWeights.Random(s_config, 1).Save(stream);
        var bytes = stream.ToArray();
        bytes[23] = 103;

        var e = Assert.Throws<InvalidDataException>(() => GruClassifierWeights.Load(new MemoryStream(bytes)));
        Assert.IsType<OverflowException>(e.InnerException);
    }

    [Fact]
    public void LoadWeights_HugeDeclaredSizes_RefusedBeforeAllocating()
    {
        using var stream = new MemoryStream();
        GruClassifierWeights.Random(s_config, 1).Save(stream);
        var bytes = stream.ToArray();
        // Hidden size is the third config int, after the 8-byte magic and the format version.
        BitConverter.GetBytes(1_000_000).CopyTo(bytes, 8 + 4 + 8);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => GruClassifierWeights.Load(new MemoryStream(bytes)));

        Assert.Contains("more than the file holds", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
    }

    [Fact]
    public void LoadWeights_RandomBytes_ThrowsOnlyInvalidDataException()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            try
            {
                GruClassifierWeights.Load(new MemoryStream(bytes));
            }
            catch (InvalidDataException)
            {
            }
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void FromOnnx_MutatedExport_ThrowsOnlyFormatException()
    {
        var bytes = GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(s_config, 1));
        Prop.ForAll(Mutations(bytes.Length), mutation =>
        {
            var mutated = (byte[])bytes.Clone();
            mutated[mutation.Position] = mutation.Value;
            try
            {
                GruClassifierExporter.FromOnnx(mutated);
            }
            catch (FormatException)
            {
            }
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void FromOnnx_SizesLargerThanInitializers_ThrowsFormatException()
    {
        var builder = new Onnx.Protobuf.OnnxModelBuilder();
        builder.AddMetadata("alertbroker.gru.sizes", "6,2,100000,2,100,10,100,100,5");

        var e = Assert.Throws<FormatException>(() => GruClassifierExporter.FromOnnx(builder.ToBytes()));

        Assert.Contains("more parameters", e.Message);
    }

    [Fact]
    public void ParseManifest_RandomBytes_ThrowsOnlyModelPackageException()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            try
            {
                ModelPackage.ParseManifest(bytes);
            }
            catch (ModelPackageException e)
            {
                Assert.Equal(ModelPackageProblemKind.InvalidJson, Assert.Single(e.Problems).Kind);
            }
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void ParseManifest_MutatedManifest_ThrowsOnlyModelPackageException()
    {
        var manifest = ModelPackageTests.Template(s_config) with
        {
            Network = GruClassifierExporter.Describe(s_config),
            Tensors = TensorContract.Standard(2, 4, 3, 1, 2),
        };
        var bytes = ModelPackage.SerializeManifest(manifest);
        Prop.ForAll(Mutations(bytes.Length), mutation =>
        {
            var mutated = (byte[])bytes.Clone();
            mutated[mutation.Position] = mutation.Value;
            try
            {
                var parsed = ModelPackage.ParseManifest(mutated);
                var problems = new List<ModelPackageProblem>();
                ModelPackage.ValidateManifest(parsed, problems);
            }
            catch (ModelPackageException)
            {
            }
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void ValidateManifest_MissingSections_ReportsProblemsInsteadOfThrowing()
    {
        var manifest = ModelPackage.ParseManifest("""{"name":"m"}"""u8);
        var problems = new List<ModelPackageProblem>();

        ModelPackage.ValidateManifest(manifest, problems);

        Assert.Contains(problems, p => p.Message.Contains("network is missing", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Message.Contains("encoding is missing", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Message.Contains("onnx is missing", StringComparison.Ordinal));

        // The optional parts left out read as their defaults, never as null.
        Assert.NotNull(manifest.Training.Metrics);
        Assert.Empty(manifest.Classes);
        Assert.Equal(string.Empty, manifest.Version);
    }

    [Fact]
    public void ParseManifest_NullSections_IsInvalidManifestNamingEach()
    {
        var e = Assert.Throws<ModelPackageException>(() => ModelPackage.ParseManifest("""{"encoding":null,"network":null,"tensors":null,"onnx":null,"classes":null}"""u8));

        Assert.All(e.Problems, p => Assert.Equal(ModelPackageProblemKind.InvalidManifest, p.Kind));
        Assert.Equal(["classes", "encoding", "network", "tensors", "onnx"], e.Problems.Select(p => p.Message.Split(' ')[0]));
    }
}
