using System.Runtime.CompilerServices;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion;

/// <summary><see cref="SyntheticBars"/> as an <see cref="IPriceSource"/>: demos, tests and benchmarks.</summary>
public sealed class SyntheticPriceSource : IPriceSource
{
    public string Name => SyntheticBars.Name;

    public async IAsyncEnumerable<SourceResult> FetchAsync(SourceRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var from = request.From ?? throw LakehouseException.Invalid("the synthetic source needs a start date (date_from / --from)");
        var to = request.To ?? throw LakehouseException.Invalid("the synthetic source needs an end date (date_to / --to)");
        if (from > to)
        {
            throw LakehouseException.Invalid($"date_from {from:yyyy-MM-dd} is after date_to {to:yyyy-MM-dd}");
        }
        if (from < SyntheticBars.Epoch)
        {
            // Starting later than asked without a word would look like missing data.
            throw LakehouseException.Invalid($"the synthetic source generates bars from {SyntheticBars.Epoch:yyyy-MM-dd} on; date_from {from:yyyy-MM-dd} is earlier");
        }
        foreach (var symbol in request.Symbols)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new SourceResult(symbol, SyntheticBars.GenerateOne(symbol, from, to, request.Seed).ToArray(), [], []);
            await Task.CompletedTask.ConfigureAwait(false);
        }
    }
}
