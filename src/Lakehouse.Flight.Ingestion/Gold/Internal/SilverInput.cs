using Apache.Arrow;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Ingestion.Gold.Internal;

/// <summary>
/// The silver columns a gold computation reads, found through <see cref="PriceColumns"/> (any order, extra columns
/// ignored) and checked once: right Arrow types, no nulls where silver allows none, one symbol, dates strictly ascending.
/// </summary>
internal sealed class SilverInput
{
    private SilverInput(RecordBatch batch)
    {
        Batch = batch;
        Length = batch.Length;
    }

    public RecordBatch Batch { get; }

    public int Length { get; }

    /// <summary>The one symbol of the rows; empty when there are no rows.</summary>
    public string Symbol { get; private set; } = string.Empty;

    public Date32Array Date { get; private set; } = null!;

    public static SilverInput Read(RecordBatch batch, string what)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var input = new SilverInput(batch);
        var symbol = Column(batch, PriceColumns.Symbol, what);
        input.Date = Column(batch, PriceColumns.Date, what);
        if (batch.Length == 0)
        {
            return input;
        }

        // Symbols are compared as UTF-8 byte ranges of the value buffer: no string and no bounds-checked
        // accessor per row (nulls were refused above, so every row has a value).
        var offsets = symbol.ValueOffsets;
        var data = symbol.Values;
        var first = data[offsets[0]..offsets[1]];
        for (var i = 1; i < batch.Length; i++)
        {
            if (!data[offsets[i]..offsets[i + 1]].SequenceEqual(first))
            {
                throw new ArgumentException(
                    $"{what} holds more than one symbol ('{symbol.GetString(0)}' and '{symbol.GetString(i)}' at row {i}); pass one symbol's rows at a time",
                    nameof(batch));
            }
        }
        input.Symbol = symbol.GetString(0);

        var dates = input.Date.Values;
        for (var i = 1; i < dates.Length; i++)
        {
            if (dates[i] <= dates[i - 1])
            {
                var order = dates[i] == dates[i - 1] ? "a duplicate date" : "a date out of order";
                throw new ArgumentException(
                    $"{what} for '{input.Symbol}' has {order} at row {i} ({DateAt(dates[i]):yyyy-MM-dd} after {DateAt(dates[i - 1]):yyyy-MM-dd}); rows must be date-ascending with one row per date",
                    nameof(batch));
            }
        }
        return input;
    }

    /// <summary>A silver column of the batch; a column silver declares non-null must hold no null.</summary>
    public T Column<T>(TableColumn<T> column)
        where T : class, IArrowArray => Column(Batch, column, "silver batch");

    public static DateOnly DateAt(int days) => DateOnly.FromDayNumber(ArrowColumns.UnixEpochDayNumber + days);

    /// <summary><paramref name="column"/> of <paramref name="batch"/>; a column declared non-null must hold no null.</summary>
    public static T Column<T>(RecordBatch batch, TableColumn<T> column, string what)
        where T : class, IArrowArray
    {
        var array = column.Of(batch);
        if (!column.Nullable && array.NullCount > 0)
        {
            throw new ArgumentException($"{what} column '{column.Name}' has {array.NullCount} null(s); it must have none", nameof(batch));
        }
        return array;
    }
}
