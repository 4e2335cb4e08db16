namespace AlertBroker.Alerts.Decoding;

/// <summary>Which alert record a compiled plan reads, which decides where its values go.</summary>
internal enum RecordKind : byte
{
    Ignored = 0,
    ZtfAlert,
    ZtfCandidate,
    ZtfPrvCandidate,
    ZtfForcedPhotometry,
    RubinAlert,
    RubinTriggerSource,
    RubinPreviousSource,
    RubinForcedSource,
    RubinNondetection,
    RubinObject,
}
