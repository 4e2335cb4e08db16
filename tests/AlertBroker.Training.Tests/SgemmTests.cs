using AlertBroker.Training.Numerics;

namespace AlertBroker.Training.Tests;

public sealed class SgemmTests
{
    [Fact]
    public void Multiply_RandomShapesAndStrides_EqualsNaiveProduct()
    {
        var random = new Random(1);
        for (var round = 0; round < 200; round++)
        {
            int m = random.Next(1, 23), n = random.Next(1, 41), k = random.Next(1, 300);
            var transposedA = random.Next(2) == 0;
            var accumulate = random.Next(2) == 0;
            var a = Fill(random, m * k);
            int aRow = transposedA ? 1 : k, aCol = transposedA ? m : 1;
            var ldb = n + random.Next(0, 3);
            var b = Fill(random, k * ldb);
            var ldc = n + random.Next(0, 3);
            var c = Fill(random, m * ldc);
            var expected = (float[])c.Clone();
            for (var i = 0; i < m; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    double s = accumulate ? expected[(i * ldc) + j] : 0;
                    for (var p = 0; p < k; p++)
                    {
                        s += (double)a[(i * aRow) + (p * aCol)] * b[(p * ldb) + j];
                    }

                    expected[(i * ldc) + j] = (float)s;
                }
            }

            Sgemm.Multiply(m, n, k, a, aRow, aCol, b, ldb, c, ldc, accumulate);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - c[i]) <= 1e-4f * (1 + Math.Abs(expected[i])), $"round {round} ({m}x{n}x{k}) element {i}: {expected[i]} vs {c[i]}");
            }
        }
    }

    private static float[] Fill(Random random, int n)
    {
        var v = new float[n];
        for (var i = 0; i < n; i++)
        {
            v[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return v;
    }
}
