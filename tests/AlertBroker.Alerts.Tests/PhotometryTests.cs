namespace AlertBroker.Alerts.Tests;

public class PhotometryTests
{
    [Theory]
    [InlineData(23.9, 1.0)]
    [InlineData(18.9, 100.0)]
    [InlineData(16.4, 1000.0)]
    [InlineData(0.0, 3631e6)]
    public void MagToMicroJy_KnownMagnitudes_GivesAbFlux(double mag, double expected)
    {
        // 0 AB mag = 3631 Jy, so 23.9 AB = 1 µJy (to 4 significant figures).
        Assert.Equal(expected, Photometry.MagToMicroJy(mag), expected * 1e-3);
    }

    [Fact]
    public void MicroJyToMag_InvertsMagToMicroJy()
    {
        for (var m = 10.0; m < 26.0; m += 0.37)
        {
            Assert.Equal(m, Photometry.MicroJyToMag(Photometry.MagToMicroJy(m)), 1e-9);
        }
    }

    [Fact]
    public void MicroJyToMag_NonPositiveFlux_IsNaN()
    {
        Assert.True(double.IsNaN(Photometry.MicroJyToMag(0)));
        Assert.True(double.IsNaN(Photometry.MicroJyToMag(-5)));
    }

    [Fact]
    public void MagErrToFluxErr_SmallError_MatchesDerivative()
    {
        // d(flux)/d(mag) = -flux * ln(10) / 2.5
        var flux = Photometry.MagToMicroJy(19.0);
        var numeric = (Photometry.MagToMicroJy(19.0 - 1e-6) - Photometry.MagToMicroJy(19.0 + 1e-6)) / 2e-6;
        Assert.Equal(numeric * 0.05, Photometry.MagErrToFluxErr(flux, 0.05), 1e-6);
        Assert.Equal(0.05, Photometry.FluxErrToMagErr(flux, Photometry.MagErrToFluxErr(flux, 0.05)), 1e-12);
    }

    [Fact]
    public void NanoJyToMicroJy_DividesByThousand() => Assert.Equal(1.241, Photometry.NanoJyToMicroJy(1241.0), 1e-12);

    [Fact]
    public void LimitingMagToSigma_IsFifthOfLimitFlux() =>
        Assert.Equal(Photometry.MagToMicroJy(20.5) / 5, Photometry.LimitingMagToSigmaMicroJy(20.5), 1e-12);

    [Fact]
    public void CountsToMicroJy_ZeroPointOfOneCount()
    {
        // With zero point ZP, one count is ZP magnitudes.
        Assert.Equal(Photometry.MagToMicroJy(26.3), Photometry.CountsToMicroJy(1.0, 26.3), 1e-9);
        Assert.Equal(Photometry.MagToMicroJy(26.3) * 250, Photometry.CountsToMicroJy(250.0, 26.3), 1e-7);
    }

    [Fact]
    public void JdToMjd_Offset() => Assert.Equal(59000.0, Photometry.JdToMjd(2459000.5));

    [Fact]
    public void Passbands_WavelengthsIncreaseThroughEachSurvey()
    {
        Assert.True(Passbands.CentralWavelengthMicron(Passband.ZtfG) < Passbands.CentralWavelengthMicron(Passband.ZtfR));
        Assert.True(Passbands.CentralWavelengthMicron(Passband.ZtfR) < Passbands.CentralWavelengthMicron(Passband.ZtfI));
        Passband[] lsst = [Passband.LsstU, Passband.LsstG, Passband.LsstR, Passband.LsstI, Passband.LsstZ, Passband.LsstY];
        for (var i = 1; i < lsst.Length; i++)
        {
            Assert.True(Passbands.CentralWavelengthMicron(lsst[i - 1]) < Passbands.CentralWavelengthMicron(lsst[i]));
        }

        Assert.True(double.IsNaN(Passbands.CentralWavelengthMicron(Passband.Unknown)));
        Assert.Equal(Passband.LsstZ, Passbands.FromLsstBand("z"u8));
        Assert.Equal(Passband.ZtfR, Passbands.FromZtfFilterId(2));
        Assert.Equal(Passband.DesI, Passbands.Parse("des", "i"));
        Assert.Equal(Passband.Unknown, Passbands.FromLsstBand("rr"u8));
    }
}
