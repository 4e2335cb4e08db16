namespace AlertBroker.Alerts.Decoding;

/// <summary>The values the normaliser takes from an alert record. Indexes into per-record value slots (fewer than 64).</summary>
internal enum Target : byte
{
    None = 0,

    // strings with special handling
    ObjectIdString,
    SchemaVersionString,
    IsDiffPos,
    BandName,

    // numbers
    Jd,
    Mjd,
    FilterId,
    Pid,
    Candid,
    AlertId,
    DiaSourceId,
    DiaObjectId,
    SsObjectId,
    DiaForcedSourceId,
    CcdVisitId,
    MagPsf,
    SigmaPsf,
    DiffMagLim,
    Ra,
    Dec,
    Flux,
    FluxErr,
    ForcedFlux,
    ForcedFluxErr,
    MagZpSci,
    DiaNoise,
    SgScore1,
    DistPsNr1,
    Drb,
    Rb,
    SsDistNr,
    NDetHist,
    MagNr,
    DistNr,
    Reliability,
    Extendedness,
    NDiaSources,

    Count,
}
