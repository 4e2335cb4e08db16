using AlertBroker.Model.Network;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Onnx.Protobuf;
using FsCheck;
using FsCheck.Fluent;

namespace AlertBroker.Model.Tests;

public class ProtobufTests
{
    [Fact]
    public void WriteVarint_AnyValue_ReadsBackEqual()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<ulong>(), value =>
        {
            var writer = new ProtoWriter();
            writer.WriteVarint(value);
            var reader = new ProtoReader(writer.WrittenSpan);
            return reader.ReadVarint() == value && reader.End;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void WriteInt64_AnyField_ReadsBackTagAndValue()
    {
        var fields = Gen.Choose(1, 536_870_911).ToArbitrary();
        Prop.ForAll(fields, ArbMap.Default.ArbFor<long>(), (field, value) =>
        {
            var writer = new ProtoWriter();
            writer.WriteInt64(field, value);
            var reader = new ProtoReader(writer.WrittenSpan);
            return reader.TryReadTag(out var f, out var wire) && f == field && wire == WireType.Varint
                && reader.ReadInt64() == value && reader.End;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void WriteInt64_Negative_TakesTenBytes()
    {
        var writer = new ProtoWriter();
        writer.WriteInt64(1, -1);

        Assert.Equal(11, writer.Length);
    }

    [Fact]
    public void WriteString_AnyText_ReadsBackEqual()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<NonNull<string>>(), text =>
        {
            var writer = new ProtoWriter();
            writer.WriteString(2, text.Get);
            var reader = new ProtoReader(writer.WrittenSpan);
            // Lone surrogates are not valid UTF-8; they come back as U+FFFD, like any protobuf string.
            var expected = System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(text.Get));
            return reader.TryReadTag(out _, out var wire) && wire == WireType.LengthDelimited && reader.ReadString() == expected;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Parse_RandomBytes_ThrowsOnlyFormatException()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            try
            {
                OnnxModelReader.Parse(bytes);
            }
            catch (FormatException)
            {
            }
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Parse_MutatedExportedModel_ThrowsOnlyFormatException()
    {
        var model = GruClassifierExporter.ToOnnx(GruClassifierWeights.Random(TestData.Config(3, 1, 4, 1, 2), 1));
        var positions = Gen.Choose(0, model.Length - 1).ToArbitrary();
        var values = ArbMap.Default.ArbFor<byte>();
        Prop.ForAll(positions, values, (position, value) =>
        {
            var mutated = (byte[])model.Clone();
            mutated[position] = value;
            try
            {
                OnnxModelReader.Parse(mutated);
                OnnxModelReader.Parse(mutated.AsSpan(0, position));
            }
            catch (FormatException)
            {
            }
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Parse_TruncatedLengthPrefix_ThrowsFormatException()
    {
        // Field 7 (graph), length 100, but only two bytes follow.
        byte[] bytes = [0x3A, 100, 1, 2];

        Assert.Throws<FormatException>(() => OnnxModelReader.Parse(bytes));
    }

    [Fact]
    public void ToBytes_Builder_WritesReadableHeaderMetadataAndInitializers()
    {
        var builder = new OnnxModelBuilder { ProducerName = "p", ProducerVersion = "9.9", Opset = 15 };
        builder.AddMetadata("k", "v");
        builder.AddInitializer(OnnxInitializer.Float("w", [1.5f, -2f, 3f], 3));
        builder.AddInitializer(OnnxInitializer.Int64("i", [-7L, 8L], 2));
        builder.AddInput("a", OnnxElementType.Float, OnnxDimension.Dynamic("n"), OnnxDimension.Fixed(3));
        builder.AddOutput("b", OnnxElementType.Float, OnnxDimension.Dynamic("n"), OnnxDimension.Fixed(3));
        builder.AddNode("Add", ["a", "w"], ["b"]);

        var model = OnnxModelReader.Parse(builder.ToBytes());

        Assert.Equal("p", model.ProducerName);
        Assert.Equal("9.9", model.ProducerVersion);
        Assert.Equal(15, model.DefaultOpset);
        Assert.Equal("v", model.Metadata["k"]);
        Assert.Equal([1.5f, -2f, 3f], model.Initializers["w"].Floats);
        Assert.Equal([3L], model.Initializers["w"].Dims);
        Assert.Equal([-7L, 8L], model.Initializers["i"].Int64s);
        Assert.Equal(["Add"], model.OperatorTypes);
    }

    [Fact]
    public void ToBytes_HandBuiltGraph_RunsInOnnxRuntime()
    {
        var builder = new OnnxModelBuilder();
        builder.AddInitializer(OnnxInitializer.Float("w", [1f, 2f, 3f], 3));
        builder.AddInput("a", OnnxElementType.Float, OnnxDimension.Dynamic("n"), OnnxDimension.Fixed(3));
        builder.AddOutput("b", OnnxElementType.Float, OnnxDimension.Dynamic("n"), OnnxDimension.Fixed(3));
        builder.AddNode("Add", ["a", "w"], ["b"]);
        using var session = OnnxSession.FromBytes(builder.ToBytes());
        float[] a = [10, 20, 30, 40, 50, 60];
        var b = new float[6];

        session.Run([OnnxTensor.Create(a, [2, 3])], [OnnxTensor.Create(b, [2, 3])]);

        Assert.Equal([11f, 22, 33, 41, 52, 63], b);
    }
}
