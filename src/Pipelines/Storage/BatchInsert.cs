using System.Data.Common;

namespace Saas.Pipelines.Storage;

/// <summary>One row's column values, in the statement's order, whichever form the batch takes.</summary>
public interface IRowColumns
{
    void Text(string? value);

    void Integer(long value);

    void Real(double value);
}

/// <summary>
/// Inserts a batch the way each database takes one fastest: on SQLite one compiled statement per row, bound by
/// position (<see cref="SqliteBatch"/>); on PostgreSQL one statement for the whole batch, sent as a single JSON
/// parameter <c>@rows</c> (<see cref="JsonRows"/>), so a batch costs one round trip. The caller lists each row's
/// columns once, for both.
/// </summary>
public static class BatchInsert
{
    /// <param name="sqlite">An INSERT with positional parameters (<c>?1</c>, <c>?2</c>…).</param>
    /// <param name="postgres">An INSERT … SELECT over <c>jsonb_array_elements(@rows)</c>, each row an array of its columns.</param>
    public static void Run<T>(DbConnection connection, DbTransaction transaction, string sqlite, string postgres, IReadOnlyCollection<T> rows, Action<IRowColumns, T> columns)
    {
        if (rows.Count == 0)
        {
            return;
        }
        if (connection.Dialect() == SqlDialect.Sqlite)
        {
            SqliteBatch.Insert(connection, sqlite, rows, columns);
            return;
        }
        connection.Prepared(postgres, transaction).With("@rows", JsonRows.Write(rows, columns)).ExecuteNonQuery();
    }
}
