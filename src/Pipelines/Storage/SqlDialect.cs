using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Saas.Pipelines.Storage;

/// <summary>
/// The SQL dialects the stores speak. The SQL is shared wherever both databases accept it; a store
/// switches on the dialect only for a statement that really differs (dates, upsert-or-ignore forms).
/// </summary>
public enum SqlDialect
{
    Sqlite,
    Postgres,
}

public static class SqlDialects
{
    /// <summary>The dialect of a connection handed to a unit of work.</summary>
    public static SqlDialect Dialect(this DbConnection connection) => connection is SqliteConnection ? SqlDialect.Sqlite : SqlDialect.Postgres;
}

/// <summary>Configuration section <c>Flowgate:Database</c>; PostgreSQL reads <c>ConnectionStrings:Flowgate</c>.</summary>
public sealed class DatabaseOptions
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary><c>sqlite</c> (a file under the data directory) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = Sqlite;
}
