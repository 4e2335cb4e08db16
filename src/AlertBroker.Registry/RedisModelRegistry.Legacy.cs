using StackExchange.Redis;

namespace AlertBroker.Registry;

/// <summary>A registry found in the key layout used before the Redis Cluster hash tag (<c>prefix:models:*</c>, no braces).</summary>
/// <param name="Models">Versions in its index.</param>
/// <param name="Active">Its active model (NAME@VERSION), if any.</param>
public sealed record LegacyRegistryLayout(int Models, string? Active);

/// <summary>What <see cref="RedisModelRegistry.MigrateLegacyLayoutAsync"/> did.</summary>
/// <param name="Copied">New keys written from their legacy originals.</param>
/// <param name="Skipped">New keys that existed already and were left as they were (the new layout wins).</param>
/// <param name="Deleted">Legacy keys deleted (only with <c>deleteLegacy</c>).</param>
public sealed record LegacyMigrationResult(IReadOnlyList<string> Copied, IReadOnlyList<string> Skipped, IReadOnlyList<string> Deleted);

public sealed partial class RedisModelRegistry
{
    /// <summary>The registry under this prefix in the layout before hash tags, or null when there is none.</summary>
    public async Task<LegacyRegistryLayout?> FindLegacyLayoutAsync()
    {
        // A key of that name and another type is another program's, not an old registry's (the layout had no hash tag, so
        // its names are common ones): until 2026-12-07 its WRONGTYPE failed `models list` on an empty registry, and a worker
        // start (exit 70), for a hint.
        var index = LegacyKey("models:index");
        var pointer = LegacyKey("models:active");
        var audit = LegacyKey("models:audit");
        var types = await Task.WhenAll(_db.KeyTypeAsync(index), _db.KeyTypeAsync(pointer), _db.KeyTypeAsync(audit)).ConfigureAwait(false);
        var models = types[0] == RedisType.Set ? await _db.SetLengthAsync(index).ConfigureAwait(false) : 0;
        var active = types[1] == RedisType.String ? await _db.StringGetAsync(pointer).ConfigureAwait(false) : RedisValue.Null;
        if (models == 0 && active.IsNull && types[2] != RedisType.List)
        {
            return null;
        }

        return new LegacyRegistryLayout((int)models, active.IsNull ? null : RegistryJson.Deserialize<ActivePointer>(active!, $"Redis key {LegacyKey("models:active")}").Ref.ToString());
    }

    /// <summary>
    /// Copies a registry from the layout before hash tags (<c>prefix:models:active</c>, <c>prefix:model:NAME@VERSION:onnx</c>,
    /// …) to the current one (<c>{prefix}:…</c>), key by key with <c>DUMP</c>/<c>RESTORE</c> (so it works on a single server
    /// and in a cluster, where the old keys lie in different slots). The legacy keys stay, so workers of the previous
    /// release keep their model during a rolling upgrade, unless <paramref name="deleteLegacy"/>, which deletes them (and
    /// the old heartbeats) once their copies exist. Keys that already exist in the new layout are left alone, so running it
    /// again is harmless (also after the single pointer was migrated to per-survey pointers: it is not copied again). Not
    /// atomic: run it before the upgrade, not during a promotion.
    /// </summary>
    public async Task<LegacyMigrationResult> MigrateLegacyLayoutAsync(bool deleteLegacy, CancellationToken cancellationToken = default)
    {
        await ThrowIfLegacyMistypedAsync([(LegacyKey("models:index"), RedisType.Set)]).ConfigureAwait(false);
        var pairs = new List<(RedisKey From, RedisKey To, RedisType Kept)>();
        foreach (var member in await _db.SetMembersAsync(LegacyKey("models:index")).ConfigureAwait(false))
        {
            foreach (var part in new[] { "manifest", "onnx", "info" })
            {
                pairs.Add((LegacyKey("model:" + member + ":" + part), Key(member!, part), RedisType.String));
            }
        }

        // The pointer last: a reader of the new layout never sees an active model whose bytes are not there yet.
        pairs.Add((LegacyKey("models:index"), Index, RedisType.Set));
        pairs.Add((LegacyKey("models:history"), History, RedisType.List));
        pairs.Add((LegacyKey("models:audit"), Audit, RedisType.List));
        pairs.Add((LegacyKey("models:active"), Active, RedisType.String));

        // Until 2026-12-07 a key of another type (another program's, the old names having no hash tag) was copied into the
        // registry as it was, where every read of it failed WRONGTYPE, and --delete-legacy deleted the other program's key.
        await ThrowIfLegacyMistypedAsync([.. pairs.Select(p => (p.From, p.Kept)), .. deleteLegacy ? [(LegacyKey("models:workers"), RedisType.Hash)] : Array.Empty<(RedisKey, RedisType)>()]).ConfigureAwait(false);

        var copied = new List<string>();
        var skipped = new List<string>();
        var present = new List<RedisKey>();

        // Once the registry has per-survey pointers (a worker or command of this release migrated the single pointer to
        // them), the old single pointer and history must not come back: they would only be migrated again.
        var perSurvey = await _db.KeyExistsAsync(SurveysSet).ConfigureAwait(false);
        foreach (var (from, to, _) in pairs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var dump = await _db.KeyDumpAsync(from).ConfigureAwait(false);
            if (dump is null)
            {
                continue;
            }

            present.Add(from);
            if (await _db.KeyExistsAsync(to).ConfigureAwait(false) || (perSurvey && (to == Active || to == History)))
            {
                skipped.Add(to.ToString());
                continue;
            }

            await _db.KeyRestoreAsync(to, dump).ConfigureAwait(false);
            copied.Add(to.ToString());
        }

        // A single pointer was copied: this instance migrates it to per-survey pointers on its next use.
        if (copied.Contains(Active.ToString()))
        {
            _migrated = false;
        }

        var deleted = new List<string>();
        if (deleteLegacy)
        {
            present.Add(LegacyKey("models:workers"));
            foreach (var key in present)
            {
                if (await _db.KeyDeleteAsync(key).ConfigureAwait(false))
                {
                    deleted.Add(key.ToString());
                }
            }
        }

        return new LegacyMigrationResult(copied, skipped, deleted);
    }

    /// <summary>
    /// Refuses the migration, before anything is copied or deleted, when a key of the earlier layout holds another type than
    /// that layout kept there, naming each such key.
    /// </summary>
    private async Task ThrowIfLegacyMistypedAsync(IReadOnlyList<(RedisKey Key, RedisType Kept)> keys)
    {
        var types = await Task.WhenAll(keys.Select(k => _db.KeyTypeAsync(k.Key))).ConfigureAwait(false);
        var mistyped = new List<string>();
        for (var i = 0; i < keys.Count; i++)
        {
            if (types[i] != RedisType.None && types[i] != keys[i].Kept)
            {
                mistyped.Add($"{keys[i].Key} is a {types[i].ToString().ToLowerInvariant()} where a registry of the earlier layout keeps a {keys[i].Kept.ToString().ToLowerInvariant()}");
            }
        }

        if (mistyped.Count > 0)
        {
            throw new RegistryException($"WRONGTYPE {string.Join("; ", mistyped)} (another program's key under the registry's prefix?): nothing was copied or deleted; rename or remove it, then migrate again") { DamagedRecord = true };
        }
    }

    private RedisKey LegacyKey(string suffix) => _prefix + ":" + suffix;
}
