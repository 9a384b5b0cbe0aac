using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Saas.Pipelines.Storage;

/// <summary>
/// Inserts a batch of rows on SQLite with one statement compiled once per connection, each column bound
/// by position straight to SQLite. Microsoft.Data.Sqlite looks every parameter up by name on every
/// execution, and a batch sent as one JSON parameter is parsed again for every column: for the gateway's
/// meter either cost more than the B-tree work itself (docs/decisions/030). Used through <see cref="BatchInsert"/>.
/// </summary>
internal static class SqliteBatch
{
    private static readonly ConditionalWeakTable<SqliteConnection, Dictionary<string, sqlite3_stmt>> Statements = new();

    /// <param name="sql">An INSERT with positional parameters (<c>?1</c>, <c>?2</c>…), run once per row in the caller's transaction.</param>
    public static void Insert<T>(DbConnection connection, string sql, IEnumerable<T> rows, Action<IRowColumns, T> columns)
    {
        var sqlite = (SqliteConnection)connection;
        var statement = Statement(sqlite, sql);
        var row = new SqliteRow(statement);
        foreach (var item in rows)
        {
            row.Column = 1;
            columns(row, item);
            var result = raw.sqlite3_step(statement);
            raw.sqlite3_reset(statement);
            if (result != raw.SQLITE_DONE)
            {
                SqliteException.ThrowExceptionForRC(result, sqlite.Handle);
            }
        }
        raw.sqlite3_clear_bindings(statement);
    }

    private static sqlite3_stmt Statement(SqliteConnection connection, string sql)
    {
        var statements = Statements.GetValue(connection, static connection =>
        {
            var compiled = new Dictionary<string, sqlite3_stmt>(StringComparer.Ordinal);
            // Finalized with the connection: SQLite keeps a closed connection's memory while a statement of it lives.
            connection.StateChange += (_, change) =>
            {
                if (change.CurrentState == System.Data.ConnectionState.Closed)
                {
                    foreach (var statement in compiled.Values)
                    {
                        statement.Dispose();
                    }
                    compiled.Clear();
                }
            };
            return compiled;
        });
        if (!statements.TryGetValue(sql, out var statement))
        {
            var result = raw.sqlite3_prepare_v2(connection.Handle, sql, out statement);
            if (result != raw.SQLITE_OK)
            {
                statement.Dispose();
                SqliteException.ThrowExceptionForRC(result, connection.Handle);
            }
            statements[sql] = statement;
        }
        return statement;
    }
}

/// <summary>Binds a row's columns to the statement's parameters in order, from <c>?1</c>.</summary>
internal sealed class SqliteRow(sqlite3_stmt statement) : IRowColumns
{
    public int Column { get; set; } = 1;

    public void Text(string? value)
    {
        var column = Column++;
        if (value is null)
        {
            raw.sqlite3_bind_null(statement, column);
        }
        else if (value.Length == 0)
        {
            // An empty span would reach SQLite as a null pointer, which binds NULL.
            raw.sqlite3_bind_text(statement, column, "");
        }
        else if (value.Length <= 256)
        {
            // UTF-8, as the database stores it: .NET's encoder is vectorized, SQLite's conversion from UTF-16 is not.
            Span<byte> utf8 = stackalloc byte[value.Length * 3];
            raw.sqlite3_bind_text(statement, column, utf8[..System.Text.Encoding.UTF8.GetBytes(value, utf8)]);
        }
        else
        {
            raw.sqlite3_bind_text16(statement, column, value.AsSpan());
        }
    }

    public void Integer(long value) => raw.sqlite3_bind_int64(statement, Column++, value);

    public void Real(double value) => raw.sqlite3_bind_double(statement, Column++, value);
}
