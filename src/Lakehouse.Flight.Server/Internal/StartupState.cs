using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// Where start-up stands (docs/decisions.md D25), for <c>/health</c> and the <c>health</c> action: the server
/// listens before the store's index is loaded and the cache warmed; until both are done it says
/// <c>warming</c> and what is still loading. Calls that need the index wait for it (the store's ready gate),
/// so no answer is computed on a partial index.
/// </summary>
internal sealed class StartupState(LakeStore store, LakehouseServerOptions options)
{
    private volatile bool _cacheDone = !options.WarmCache;
    private volatile bool _codeDone = !options.WarmCache || !options.WarmServing;
    private volatile bool _goldDone = true;

    /// <summary>Commits rolled forward at start still owe their gold (Jobs/RecoveredGold): health says warming until it is rebuilt.</summary>
    public void GoldPending() => _goldDone = false;

    /// <summary>The gold owed by recovered commits is rebuilt (or the attempt failed and is logged).</summary>
    public void GoldDone() => _goldDone = true;

    /// <summary>The warm-up is over (done, failed or cancelled): nothing more is loading for the cache.</summary>
    public void CacheDone() => _cacheDone = true;

    /// <summary>The serving code's warm-up (decisions D30) is over (done, failed or cancelled).</summary>
    public void CodeDone() => _codeDone = true;

    /// <summary><c>ok</c>, <c>warming</c>, or <c>failed</c> when listing the lake failed.</summary>
    public string State => store.Ready.IsFaulted ? "failed" : store.IsReady && _cacheDone && _codeDone && _goldDone ? "ok" : "warming";

    /// <summary>What is still loading: <c>index</c>, <c>cache</c>, <c>code</c> (the serving code's warm-up), <c>gold</c> (owed by recovered commits).</summary>
    public IReadOnlyList<string> Loading
    {
        get
        {
            var loading = new List<string>(3);
            if (!store.IsReady && !store.Ready.IsFaulted)
            {
                loading.Add("index");
            }
            if (!_cacheDone)
            {
                loading.Add("cache");
            }
            if (!_codeDone)
            {
                loading.Add("code");
            }
            if (!_goldDone)
            {
                loading.Add("gold");
            }
            return loading;
        }
    }

    /// <summary>The health body shared by HTTP and the Flight action: liveness (<c>status</c>) and readiness (<c>state</c>); anyone may see it.</summary>
    public HealthReport Describe() => new()
    {
        Status = "ok",
        State = State,
        Loading = Loading is { Count: > 0 } loading ? loading : null,
    };

    /// <summary>What the lake holds (its version and data files): only for callers with valid credentials when auth is on.</summary>
    public HealthReport DescribeLake(HealthReport health) => health with { Version = store.Version, Files = store.DataFiles };
}
